"""``/users/me``: the signed-in user; ``/auth/email``: proving the address;
``/auth/password``: a forgotten password's reset."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_reauthentication, request_user
from accounts.api.serializers import (
    AcceptedSerializer,
    EmailKeySerializer,
    EmailVerifiedSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PasswordResetRequestSerializer,
    PasswordResetSerializer,
    ReauthenticationSerializer,
    accepted,
    validated,
)
from accounts.reauth import reauthentication_check
from accounts.selectors import user_profile
from accounts.users import recovery, services
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_meta
from spendsense.api.throttles import (
    AnonRateThrottle,
    ScopedRateThrottle,
    UserRateThrottle,
    throttle_for,
)
from spendsense.api.views import PublicView

PasswordResetIPThrottle = throttle_for("password_reset_ip", fail_open=False)


@extend_schema(tags=["auth"])
class EmailViewSet(viewsets.ViewSet):
    """Proving the account's email address: the mailed key comes back, or a new one is sent."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    throttle_scope = "email_resend"  # ScopedRateThrottle's rate; only resend uses it

    @extend_schema(
        operation_id="verifyEmail",
        summary="Verify an email address with the key from the mailed link",
        description=(
            "The mailed link opens the web client at `/verify-email?key=...`; the client posts "
            "that `key` here. 400 with `attr: key` when the key is unknown, used or expired: "
            "ask for a new link with POST /api/v1/auth/email/resend."
        ),
        auth=[],
        request=EmailKeySerializer,
        responses={200: EmailVerifiedSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["post"], authentication_classes=[])
    def verify(self, request: Request) -> Response:
        data = validated(EmailKeySerializer, request.data)
        services.email_verify(key=data["key"], meta=request_meta(request))
        return Response({"email_verified": True})

    @extend_schema(
        operation_id="resendEmailVerification",
        summary="Mail a new verification link to the signed-in user's email",
        description=(
            "202 when a link is on its way; 409 when the address is already verified. "
            "Limited per user (429 with `Retry-After`)."
        ),
        request=None,
        responses={202: AcceptedSerializer, **error_responses(400, 409)},
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        throttle_classes=[ScopedRateThrottle],
    )
    def resend(self, request: Request) -> Response:
        services.email_verification_resend(user=request_user(request), meta=request_meta(request))
        return accepted("A verification link is on its way.")


@extend_schema(tags=["auth"])
class PasswordViewSet(PublicView, viewsets.ViewSet):
    """A way back into an account whose password is forgotten: a mailed, single-use link."""

    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="requestPasswordReset",
        summary="Mail a password reset link",
        description=(
            "The same 202 whether or not an account has this email, so the answer reveals "
            "nothing. The link opens the web client at `/reset-password?key=...`; the client "
            "then posts the key and a new password to /api/v1/auth/password/reset."
        ),
        auth=[],
        request=PasswordResetRequestSerializer,
        responses={202: AcceptedSerializer, **error_responses(400, 503)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="request",
        throttle_classes=[PasswordResetIPThrottle],
    )
    def request_reset(self, request: Request) -> Response:
        data = validated(PasswordResetRequestSerializer, request.data)
        recovery.password_reset_request(email=data["email"], meta=request_meta(request))
        return accepted("If an account has this email, a reset link is on its way.")

    @extend_schema(
        operation_id="resetPassword",
        summary="Set a new password with the key from the mailed link",
        description=(
            "Sets the password and ends every session of the account: sign in again with the "
            "new password. 400 with `attr: key` for a bad, used or expired key, or with "
            "`attr: password` for a weak password."
        ),
        auth=[],
        request=PasswordResetSerializer,
        responses={200: AcceptedSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["post"])
    def reset(self, request: Request) -> Response:
        data = validated(PasswordResetSerializer, request.data)
        recovery.password_reset(
            key=data["key"], password=data["password"], meta=request_meta(request)
        )
        return Response({"detail": "Your password is set. Sign in with it."})


@extend_schema(tags=["users"])
class MeViewSet(viewsets.ViewSet):
    """The signed-in user: read, change, erase."""

    singleton = True  # served at /users/me itself (spendsense.api.routers.Router)
    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle]

    @extend_schema(
        operation_id="getMe",
        summary="Read the signed-in user",
        description=(
            "Who the token belongs to: id, email (and whether it is verified), role, the ways "
            "to sign in, and consent status. Use `id` (or `me`) in /api/v1/users/{user_id}/..."
        ),
        responses={200: MeSerializer},
    )
    def retrieve(self, request: Request) -> Response:
        return Response(MeSerializer(user_profile(user_id=request_user(request).pk)).data)

    @extend_schema(
        operation_id="updateMe",
        summary="Change the signed-in user's email, username or password",
        description=(
            "Send any subset of the fields. Changing the email or the password needs "
            "`current_password` (or a sign-in within the last 10 minutes), else 403. 409 when "
            "the new email or username is taken. A new email must be verified again."
        ),
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(403, 409)},
    )
    def update(self, request: Request) -> Response:
        data = validated(MeUpdateSerializer, request.data)
        user = services.user_update(
            user=request_user(request),
            proof=request_reauthentication(request, data.get("current_password")),
            meta=request_meta(request),
            email=data.get("email"),
            username=data.get("username") if "username" in data else None,
            new_password=data.get("password"),
        )
        return Response(MeSerializer(user_profile(user_id=user.pk)).data)

    @extend_schema(
        operation_id="patchMe",
        summary="Change some of the signed-in user's fields",
        description="The same as PUT /api/v1/users/me: every field is optional in both.",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(403, 409)},
    )
    def partial_update(self, request: Request) -> Response:
        return self.update(request)

    @extend_schema(
        operation_id="deleteMe",
        summary="Erase the signed-in user's account and all their data",
        description=(
            "Deletes the account, its uploads (files too), derived data and sessions; this "
            "cannot be undone. Needs `current_password` or a sign-in within the last 10 "
            "minutes, else 403."
        ),
        request=ReauthenticationSerializer,
        responses={204: OpenApiResponse(description="Erased."), **error_responses(403)},
    )
    def destroy(self, request: Request) -> Response:
        data = validated(ReauthenticationSerializer, request.data)
        user = request_user(request)
        reauthentication_check(
            user=user, proof=request_reauthentication(request, data.get("current_password"))
        )
        services.user_delete(user=user, meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
