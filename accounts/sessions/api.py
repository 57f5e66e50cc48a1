"""``/auth``: sign-up, sign-in, token refresh, sign-out; ``/auth/sessions``: the caller's
sessions; ``/.well-known/jwks.json``: the keys that verify access tokens."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import tokens
from accounts.api.examples import LOGIN, REFRESH, REGISTER
from accounts.api.request import request_claims, request_session_id, request_user
from accounts.api.serializers import (
    JWKSetSerializer,
    LoginSerializer,
    MeSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    SessionSerializer,
    SignInResponseSerializer,
    TokenResponseSerializer,
    validated,
)
from accounts.models import Session
from accounts.selectors import sessions_live_for_user
from accounts.sessions import services
from accounts.sessions.services import signed_in
from accounts.users.services import user_register
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_meta
from spendsense.api.throttles import (
    AnonRateThrottle,
    UserRateThrottle,
    throttle_for,
)
from spendsense.api.views import PublicView

# Sign-in limits fail closed: while Redis is down, no unlimited password guessing.
LoginThrottle = throttle_for("login", fail_open=False)
RegisterThrottle = throttle_for("register", fail_open=False)


@extend_schema(tags=["auth"])
class AuthViewSet(viewsets.ViewSet):
    """Sign-up, sign-in, token refresh and sign-out with email (or username) and password."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="register",
        summary="Create an account with email and password; signed in at once",
        description=(
            "Creates a user and a first session: the answer holds the user and a token pair. "
            "Send `access` as `Authorization: Bearer <access>` on every other call; when it "
            "expires (`expires_in` seconds), POST `refresh` to /api/v1/auth/refresh. A "
            "verification link is mailed to the address. 409 `email_taken` (or "
            "`username_taken`) when the address or username is in use; 400 names each invalid "
            "field (a weak password under `password`)."
        ),
        request=RegisterSerializer,
        responses={201: RegisterResponseSerializer, **error_responses(409)},
        examples=REGISTER,
    )
    @action(detail=False, methods=["post"], throttle_classes=[RegisterThrottle])
    def register(self, request: Request) -> Response:
        data = validated(RegisterSerializer, request.data)
        user, pair = user_register(
            email=data["email"],
            password=data["password"],
            username=data.get("username"),
            meta=request_meta(request),
        )
        body = {"user": MeSerializer(user).data, **pair.as_response()}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="login",
        summary="Sign in with email (or username) and password",
        description=(
            "Send `email` or `username` (one of them) and `password`. The answer is a token "
            "pair, or, when the account has a second factor on, `{mfa_required, mfa_token}`: "
            "then POST the token and a code to /api/v1/auth/mfa/verify. Every failure is the "
            "same 401 `invalid_credentials`, whichever part was wrong."
        ),
        request=LoginSerializer,
        responses={200: SignInResponseSerializer},
        examples=LOGIN,
    )
    @action(detail=False, methods=["post"], throttle_classes=[LoginThrottle])
    def login(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        meta = request_meta(request)
        user = services.user_authenticate(
            email=data.get("email"),
            username=data.get("username"),
            password=data["password"],
            meta=meta,
        )
        return Response(signed_in(user=user, meta=meta))

    @extend_schema(
        operation_id="refreshTokens",
        summary="Trade a refresh token for a new token pair",
        description=(
            "Rotates the session's refresh token: keep the new pair and drop the old one, which "
            "stops working. Reusing an already rotated refresh token ends the session (401 "
            "`token_not_valid`): sign in again."
        ),
        request=RefreshSerializer,
        responses={200: TokenResponseSerializer},
        examples=REFRESH,
    )
    @action(detail=False, methods=["post"], throttle_classes=[AnonRateThrottle])
    def refresh(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        pair = services.session_rotate(refresh_token=data["refresh"], meta=request_meta(request))
        return Response(pair.as_response())

    @extend_schema(
        operation_id="logout",
        summary="Sign out: end this session",
        description=(
            "Ends the session the refresh token belongs to; its access token is refused from "
            "now on. Send the Bearer access token and the session's `refresh`."
        ),
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
            meta=request_meta(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class SessionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own sign-ins: list them, end one, or end every other one."""

    serializer_class = SessionSerializer
    queryset = Session.objects.none()  # the schema's model; requests use get_queryset
    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return sessions_live_for_user(user=request_user(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "current_session_id": self.current_id}

    @property
    def current_id(self) -> str:
        """The session of the caller's access token; 403 for a caller without one (an API key)."""
        sid = request_session_id(self.request)
        if not sid:
            raise exceptions.PermissionDenied(
                "Only a signed-in session can manage sessions.", code="session_required"
            )
        return sid

    @extend_schema(
        operation_id="listSessions",
        summary="List the caller's live sessions",
        description=(
            "Every device signed in to the account, most recently used first; `current` marks "
            "this one. "
            "End one with DELETE /api/v1/auth/sessions/{id}. 403 `session_required` for a "
            "caller without a session (an API key)."
        ),
        responses={200: SessionSerializer(many=True), **error_responses(403)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.current_id  # noqa: B018 (403 before anything is read)
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="endSession",
        summary="End one of the caller's sessions",
        description=(
            "Its access and refresh tokens stop working at once. 404 for an id that is not one "
            "of the caller's live sessions."
        ),
        request=None,
        responses={204: OpenApiResponse(description="Ended."), **error_responses(403, 404)},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        self.current_id  # noqa: B018 (403 before anything is read)
        services.session_end(
            user=request_user(request), session_id=_uuid_or_404(pk), meta=request_meta(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="End every session of the caller but this one",
        description="Signs every other device out; this session stays signed in.",
        operation_id="endOtherSessions",
        request=None,
        responses={204: OpenApiResponse(description="Ended."), **error_responses(403)},
    )
    def destroy_others(self, request: Request) -> Response:
        services.sessions_end_others(
            user=request_user(request),
            current_session_id=self.current_id,
            meta=request_meta(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise exceptions.NotFound("No such session.", code="session_not_found") from None


@extend_schema(tags=["auth"])
class JWKSView(PublicView):
    """The public keys that verify access tokens: the current one and those still accepted."""

    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="getJwks",
        summary="The public keys that verify access tokens",
        description=(
            "A JSON Web Key Set: verify an access token's RS256 signature with the key whose "
            "`kid` matches the token header. Cacheable for 5 minutes."
        ),
        auth=[],
        responses={200: JWKSetSerializer},
    )
    def get(self, request: Request) -> Response:
        response = Response(tokens.jwks())
        response["Cache-Control"] = "public, max-age=300"
        return response
