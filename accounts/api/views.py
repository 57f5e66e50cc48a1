"""The accounts API: sign-up, sign-in, tokens, sign-out, the signed-in user, the JWKS."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, tokens
from accounts.api.serializers import (
    AcceptedSerializer,
    EmailKeySerializer,
    EmailVerifiedSerializer,
    JWKSetSerializer,
    LoginSerializer,
    MeSerializer,
    MeUpdateSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    SignInResponseSerializer,
    TokenResponseSerializer,
)
from accounts.mfa import mfa_active, mfa_challenge
from accounts.selectors import user_profile
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_claims, request_user
from spendsense.api.throttles import (
    AnonRateThrottle,
    ScopedRateThrottle,
    UserRateThrottle,
    throttle_for,
)

# Sign-in limits fail closed: while Redis is down, no unlimited password guessing.
LoginThrottle = throttle_for("login", fail_open=False)
RegisterThrottle = throttle_for("register", fail_open=False)


def validated(serializer_class: type, data: Any) -> dict[str, Any]:
    """``data`` checked by ``serializer_class`` (400 naming each bad field), as a dict."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class AuthViewSet(viewsets.ViewSet):
    """Sign-up, sign-in, token refresh and sign-out with email (or username) and password."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        request=RegisterSerializer,
        responses={201: RegisterResponseSerializer, **error_responses(409)},
    )
    @action(detail=False, methods=["post"], throttle_classes=[RegisterThrottle])
    def register(self, request: Request) -> Response:
        data = validated(RegisterSerializer, request.data)
        user, pair = services.user_register(
            email=data["email"],
            password=data["password"],
            username=data.get("username"),
            request=request,
        )
        body = {"user": MeSerializer(user).data, **pair.as_response()}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["auth"], request=LoginSerializer, responses={200: SignInResponseSerializer}
    )
    @action(detail=False, methods=["post"], throttle_classes=[LoginThrottle])
    def login(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        user = services.user_authenticate(
            email=data.get("email"),
            username=data.get("username"),
            password=data["password"],
            request=request,
        )
        if mfa_active(user):
            return Response(mfa_challenge(user=user))
        return Response(services.session_create(user=user, request=request).as_response())

    @extend_schema(
        tags=["auth"], request=RefreshSerializer, responses={200: TokenResponseSerializer}
    )
    @action(detail=False, methods=["post"], throttle_classes=[AnonRateThrottle])
    def refresh(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        pair = services.session_rotate(refresh_token=data["refresh"], request=request)
        return Response(pair.as_response())

    @extend_schema(
        tags=["auth"],
        request=RefreshSerializer,
        responses={204: OpenApiResponse(description="Signed out.")},
    )
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def logout(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        services.logout(
            user=request_user(request),
            claims=request_claims(request),
            refresh_token=data["refresh"],
            request=request,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailViewSet(viewsets.ViewSet):
    """Proving the account's email address: the mailed key comes back, or a new one is sent."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    throttle_scope = "email_resend"  # ScopedRateThrottle's rate; only resend uses it

    @extend_schema(
        tags=["auth"],
        summary="Verify an email address with the key from the mailed link",
        auth=[],
        request=EmailKeySerializer,
        responses={200: EmailVerifiedSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["post"], authentication_classes=[])
    def verify(self, request: Request) -> Response:
        data = validated(EmailKeySerializer, request.data)
        services.email_verify(key=data["key"], request=request)
        return Response({"email_verified": True})

    @extend_schema(
        tags=["auth"],
        summary="Mail a new verification link to the signed-in user's email",
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
        services.email_verification_resend(user=request_user(request), request=request)
        return Response(
            {"detail": "A verification link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class MeViewSet(viewsets.ViewSet):
    """The signed-in user: read, change, erase."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle]

    @extend_schema(tags=["users"], responses={200: MeSerializer})
    def retrieve(self, request: Request) -> Response:
        return Response(MeSerializer(user_profile(user_id=request_user(request).pk)).data)

    @extend_schema(
        tags=["users"],
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(409)},
    )
    def update(self, request: Request) -> Response:
        data = validated(MeUpdateSerializer, request.data)
        user = services.user_update(
            user=request_user(request),
            request=request,
            current_password=data.get("current_password"),
            email=data.get("email"),
            username=data.get("username") if "username" in data else None,
            new_password=data.get("password"),
        )
        return Response(MeSerializer(user_profile(user_id=user.pk)).data)

    @extend_schema(
        tags=["users"],
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(409)},
    )
    def partial_update(self, request: Request) -> Response:
        return self.update(request)

    @extend_schema(
        tags=["users"], request=None, responses={204: OpenApiResponse(description="Erased.")}
    )
    def destroy(self, request: Request) -> Response:
        services.user_delete(user=request_user(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JWKSView(APIView):
    """The public keys that verify access tokens: the current one and those still accepted."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(tags=["auth"], auth=[], responses={200: JWKSetSerializer})
    def get(self, request: Request) -> Response:
        response = Response(tokens.jwks())
        response["Cache-Control"] = "public, max-age=300"
        return response
