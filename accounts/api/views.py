"""The accounts API: sign-up, sign-in, tokens, sign-out, the signed-in user, the JWKS."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import recovery, services, tokens
from accounts.api.examples import LOGIN, REFRESH, REGISTER
from accounts.api.serializers import (
    AcceptedSerializer,
    EmailKeySerializer,
    EmailVerifiedSerializer,
    JWKSetSerializer,
    LoginSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PasswordResetRequestSerializer,
    PasswordResetSerializer,
    ReauthenticationSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    SessionSerializer,
    SignInResponseSerializer,
    TokenResponseSerializer,
)
from accounts.mfa import mfa_active, mfa_challenge
from accounts.models import Session
from accounts.reauth import reauthentication_check
from accounts.selectors import sessions_live_for_user, user_profile
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
PasswordResetIPThrottle = throttle_for("password_reset_ip", fail_open=False)


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
        user, pair = services.user_register(
            email=data["email"],
            password=data["password"],
            username=data.get("username"),
            request=request,
        )
        body = {"user": MeSerializer(user).data, **pair.as_response()}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["auth"],
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
        tags=["auth"],
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
        pair = services.session_rotate(refresh_token=data["refresh"], request=request)
        return Response(pair.as_response())

    @extend_schema(
        tags=["auth"],
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
        services.email_verify(key=data["key"], request=request)
        return Response({"email_verified": True})

    @extend_schema(
        tags=["auth"],
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
        services.email_verification_resend(user=request_user(request), request=request)
        return Response(
            {"detail": "A verification link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class PasswordViewSet(viewsets.ViewSet):
    """A way back into an account whose password is forgotten: a mailed, single-use link."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        tags=["auth"],
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
        recovery.password_reset_request(email=data["email"], request=request)
        return Response(
            {"detail": "If an account has this email, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        tags=["auth"],
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
        recovery.password_reset(key=data["key"], password=data["password"], request=request)
        return Response({"detail": "Your password is set. Sign in with it."})


def _current_session_id(request: Request) -> str:
    """The session of the caller's access token; 403 for a caller without one (an API key)."""
    sid = request_claims(request).get("sid")
    if not sid:
        raise exceptions.PermissionDenied(
            "Only a signed-in session can manage sessions.", code="session_required"
        )
    return str(sid)


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
        return _current_session_id(self.request)

    @extend_schema(
        tags=["auth"],
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
        tags=["auth"],
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
            user=request_user(request), session_id=_uuid_or_404(pk), request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["auth"],
        summary="End every session of the caller but this one",
        description="Signs every other device out; this session stays signed in.",
        operation_id="endOtherSessions",
        request=None,
        responses={204: OpenApiResponse(description="Ended."), **error_responses(403)},
    )
    def destroy_others(self, request: Request) -> Response:
        services.sessions_end_others(
            user=request_user(request), current_session_id=self.current_id, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise exceptions.NotFound("No such session.", code="session_not_found") from None


class MeViewSet(viewsets.ViewSet):
    """The signed-in user: read, change, erase."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle]

    @extend_schema(
        tags=["users"],
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
        tags=["users"],
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
            request=request,
            current_password=data.get("current_password"),
            email=data.get("email"),
            username=data.get("username") if "username" in data else None,
            new_password=data.get("password"),
        )
        return Response(MeSerializer(user_profile(user_id=user.pk)).data)

    @extend_schema(
        tags=["users"],
        operation_id="patchMe",
        summary="Change some of the signed-in user's fields",
        description="The same as PUT /api/v1/users/me: every field is optional in both.",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(403, 409)},
    )
    def partial_update(self, request: Request) -> Response:
        return self.update(request)

    @extend_schema(
        tags=["users"],
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
        reauthentication_check(user=user, request=request, password=data.get("current_password"))
        services.user_delete(user=user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JWKSView(APIView):
    """The public keys that verify access tokens: the current one and those still accepted."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        tags=["auth"],
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
