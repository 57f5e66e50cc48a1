"""``/auth/mfa/*``: set up, activate, deactivate a TOTP second factor; complete a sign-in."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_reauthentication, request_user
from accounts.api.serializers import TokenResponseSerializer, validated
from accounts.mfa import services as mfa
from accounts.sessions.api import LoginThrottle
from accounts.sessions.services import session_create
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_meta


class SetupSerializer(serializers.Serializer):
    secret = serializers.CharField()
    otpauth_uri = serializers.CharField()


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField())


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        required=False,
        help_text="The current password; without it, a sign-in within 10 minutes is needed.",
    )


class VerifySerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=512)
    code = serializers.CharField(max_length=32, help_text="A 6-digit TOTP code or a recovery code.")


@extend_schema(tags=["auth"])
class MfaViewSet(viewsets.ViewSet):
    """TOTP: setup returns a secret, a first code activates it, the password turns it off."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="setupMfa",
        summary="Start setting up a TOTP second factor",
        description=(
            "Returns a new secret and its `otpauth://` URI (show it as a QR code for an "
            "authenticator app). The factor is off until POST /api/v1/auth/mfa/activate with a "
            "first code. 409 when a factor is already active."
        ),
        request=None,
        responses={200: SetupSerializer, **error_responses(409)},
    )
    @action(detail=False, methods=["post"], url_path="setup")
    def start(self, request: Request) -> Response:  # not "setup": that is View.setup()
        return Response(mfa.mfa_setup(user=request_user(request)))

    @extend_schema(
        operation_id="activateMfa",
        summary="Turn the second factor on with a first code",
        description=(
            "Send a current 6-digit code from the authenticator app. The answer lists one-time "
            "recovery codes, shown only this once: ask the user to keep them. 400 with "
            "`attr: code` for a wrong code."
        ),
        request=CodeSerializer,
        responses={200: RecoveryCodesSerializer},
    )
    @action(detail=False, methods=["post"])
    def activate(self, request: Request) -> Response:
        data = validated(CodeSerializer, request.data)
        codes = mfa.mfa_activate(
            user=request_user(request),
            code=data["code"],
            meta=request_meta(request),
        )
        return Response({"recovery_codes": codes})

    @extend_schema(
        operation_id="deactivateMfa",
        summary="Turn the second factor off",
        description=(
            "Needs the current `password`, or a sign-in within the last 10 minutes; else 403."
        ),
        request=PasswordSerializer,
        responses={204: OpenApiResponse(description="Off."), **error_responses(403)},
    )
    @action(detail=False, methods=["post"])
    def deactivate(self, request: Request) -> Response:
        data = validated(PasswordSerializer, request.data)
        mfa.mfa_deactivate(
            user=request_user(request),
            proof=request_reauthentication(request, data.get("password")),
            meta=request_meta(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="verifyMfa",
        summary="Complete a sign-in with a second-factor code",
        description=(
            "After a sign-in answered `{mfa_required: true, mfa_token}`, send that token with a "
            "TOTP code (or a recovery code) to receive the token pair. 400 with `attr: code` "
            "for a wrong code, or `attr: mfa_token` when the sign-in expired (start again)."
        ),
        request=VerifySerializer,
        responses={200: TokenResponseSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[AllowAny],
        throttle_classes=[LoginThrottle],
    )
    def verify(self, request: Request) -> Response:
        data = validated(VerifySerializer, request.data)
        meta = request_meta(request)
        user = mfa.mfa_verify(
            mfa_token=data["mfa_token"],
            code=data["code"],
            meta=meta,
        )
        return Response(session_create(user=user, meta=meta).as_response())
