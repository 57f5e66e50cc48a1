"""``/auth/oauth/*``: sign in with Google, GitHub, Facebook or Apple; link and unlink them.

Authorize answers 302 to the provider (or its URL as JSON); the provider returns to our
callback, which signs the user in. A flow started with a client ``redirect_uri`` ends with a
302 to it carrying a one-time code that ``/auth/oauth/exchange`` turns into tokens; tokens
never travel in a URL. A ``purpose=link`` flow's callback hands the provider's code and our
state to the client, which posts them to ``/auth/oauth/link`` with its Bearer token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.openapi import sign_in_method_removal_schema
from accounts.api.request import request_reauthentication, request_user
from accounts.api.serializers import (
    MeSerializer,
    ReauthenticationSerializer,
    SignInResponseSerializer,
    validated,
)
from accounts.oauth import providers, services
from accounts.oauth.state import (
    Purpose,
    client_redirect,
    exchange_code_issue,
    state_peek,
    state_take,
    state_take_for_link,
)
from accounts.sessions.services import signed_in
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_meta
from spendsense.api.throttles import throttle_for
from spendsense.api.views import PublicView

# Sign-in limits fail closed: while Redis is down, no unlimited attempts.
OAuthThrottle = throttle_for("oauth", fail_open=False)

PROVIDER_PARAMETER = OpenApiParameter(
    "provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(settings.OAUTH_PROVIDERS)
)
_CODE_CHALLENGE = r"^[A-Za-z0-9_-]{43}$"  # base64url(SHA-256), unpadded

# The callback's GET and its form POST (Apple) are one endpoint to the provider.
_CALLBACK_DESCRIPTION = (
    "Not called by clients: the provider sends the browser here after consent "
    "(Apple with a form POST). A flow started with a client `redirect_uri` ends with a "
    "302 to it carrying a one-time `code` (60 s) and your `client_state` as `state`; "
    "POST that code to /api/v1/auth/oauth/exchange. Without a `redirect_uri` the answer "
    "is the token pair. 400 for an unknown or used `state`, or when the user cancelled "
    "(`oauth_cancelled`); 409 `email_unverified_account` when an account holds the "
    "provider's email without having verified it (sign in to it and link instead)."
)
_CALLBACK_RESPONSES = {
    200: SignInResponseSerializer,
    302: OpenApiResponse(description="To the client's redirect_uri with a one-time code."),
    **error_responses(404, 409, 503),
}


class AuthorizeQuerySerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.LOGIN)
    redirect_uri = serializers.CharField(
        max_length=512,
        required=False,
        help_text="Where to send the client back (exact match with OAUTH_REDIRECT_URIS).",
    )
    client_state = serializers.CharField(
        max_length=512, required=False, help_text="Echoed back as `state` on that redirect."
    )
    code_challenge = serializers.RegexField(
        _CODE_CHALLENGE,
        required=False,
        help_text="PKCE (S256) for the one-time code: /exchange then needs the verifier.",
    )
    code_challenge_method = serializers.ChoiceField(choices=["S256"], required=False)
    format = serializers.ChoiceField(
        choices=["json"], required=False, help_text="`json`: the URL in a body, not a 302."
    )

    def validate_redirect_uri(self, value: str) -> str:
        if value not in settings.OAUTH_REDIRECT_URIS:
            raise serializers.ValidationError(
                "This redirect_uri is not allowed.", code="redirect_uri_not_allowed"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        redirect_uri = attrs.get("redirect_uri", "")
        if attrs["purpose"] == Purpose.LINK and not redirect_uri:
            raise serializers.ValidationError(
                {"redirect_uri": ["A link flow needs a redirect_uri to return the code to."]},
                code="required",
            )
        if (
            attrs["purpose"] == Purpose.LOGIN
            and redirect_uri
            and urlsplit(redirect_uri).scheme != "https"
            and not attrs.get("code_challenge")
        ):
            # A custom scheme or a localhost port can be claimed by another app on the device:
            # the one-time code it receives must be useless without the client's verifier.
            raise serializers.ValidationError(
                {"code_challenge": ["A redirect_uri that is not https needs a code_challenge."]},
                code="required",
            )
        return attrs


class AuthorizationUrlSerializer(serializers.Serializer):
    authorization_url = serializers.URLField()


class CallbackSerializer(serializers.Serializer):
    state = serializers.CharField(max_length=512)
    code = serializers.CharField(max_length=2048, required=False)
    error = serializers.CharField(max_length=256, required=False)
    user = serializers.CharField(max_length=4096, required=False, help_text="Apple only.")


class ExchangeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=128)
    code_verifier = serializers.RegexField(
        r"^[A-Za-z0-9._~-]{43,128}$", required=False, help_text="When authorize had a challenge."
    )


class LinkSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=list(settings.OAUTH_PROVIDERS))
    code = serializers.CharField(max_length=2048, required=False)
    state = serializers.CharField(max_length=512, required=False)
    id_token = serializers.CharField(max_length=8192, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("id_token"):
            return attrs
        missing = [name for name in ("code", "state") if not attrs.get(name)]
        if missing:
            raise serializers.ValidationError(
                {name: ["Send code and state, or an id_token."] for name in missing},
                code="required",
            )
        return attrs


def _client_redirect(url: str) -> HttpResponse:
    """302 to an allow-listed client URI (custom schemes included, which Django's
    HttpResponseRedirect refuses); the one-time code must not leak through a Referer."""
    response = HttpResponse(status=302)
    response["Location"] = url
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


@extend_schema(tags=["auth"])
class OAuthViewSet(viewsets.ViewSet):
    """OAuth sign-in, the one-time code exchange, linking and unlinking."""

    permission_classes = [AllowAny]
    throttle_classes = [OAuthThrottle]

    @extend_schema(
        operation_id="authorizeOauth",
        summary="Start an OAuth sign-in (or link) with Google, GitHub, Facebook or Apple",
        description=(
            "Redirects (302) the browser to the provider's consent page; with `format=json` "
            "the answer is that URL instead, for apps that open it themselves. Mobile and SPA "
            "clients pass `redirect_uri` (allow-listed) and, unless it is https, a PKCE "
            "`code_challenge`: the flow then ends at that URI with a one-time code for "
            "/api/v1/auth/oauth/exchange. `purpose=link` (signed in) adds the provider to the "
            "account via /api/v1/auth/oauth/link. 503 when the provider is not configured."
        ),
        parameters=[PROVIDER_PARAMETER, AuthorizeQuerySerializer],
        responses={
            200: AuthorizationUrlSerializer,
            302: OpenApiResponse(description="To the provider's consent page."),
            **error_responses(404, 503),
        },
    )
    def authorize(self, request: Request, provider: str) -> HttpResponse:
        query = validated(AuthorizeQuerySerializer, request.query_params)
        user_id = ""
        if query["purpose"] == Purpose.LINK:
            user_id = str(request_user(request).id)  # 401 unless signed in
        url = providers.authorization_url(
            request=request,
            provider_id=provider,
            purpose=query["purpose"],
            redirect_uri=query.get("redirect_uri", ""),
            client_state=query.get("client_state", ""),
            client_code_challenge=query.get("code_challenge", ""),
            user_id=user_id,
        )
        if query.get("format") == "json":
            return _no_store(Response({"authorization_url": url}))
        return HttpResponseRedirect(url)

    @extend_schema(
        operation_id="exchangeOauthCode",
        summary="Trade the one-time OAuth code for tokens",
        description=(
            "The code from the callback's redirect to your `redirect_uri`, valid once for 60 "
            "seconds, plus the PKCE `code_verifier` when authorize had a `code_challenge`. The "
            "answer is a token pair, or `{mfa_required, mfa_token}` for an account with a "
            "second factor. 401 `invalid_credentials` for an unknown, used or expired code."
        ),
        auth=[],
        request=ExchangeSerializer,
        responses={200: SignInResponseSerializer},
    )
    def exchange(self, request: Request) -> Response:
        data = validated(ExchangeSerializer, request.data)
        user = services.oauth_exchange(
            code=data["code"], code_verifier=data.get("code_verifier", "")
        )
        return _no_store(Response(signed_in(user=user, meta=request_meta(request))))

    @extend_schema(
        operation_id="linkOauth",
        summary="Add an OAuth provider to the signed-in account",
        description=(
            "Send `provider` with either the `code` and `state` a `purpose=link` authorize "
            "flow returned to your `redirect_uri`, or a provider `id_token` obtained natively "
            "(Sign in with Apple, Google on a phone). 409 when that provider account belongs to "
            "another user."
        ),
        request=LinkSerializer,
        responses={200: MeSerializer, **error_responses(409, 503)},
    )
    def link(self, request: Request) -> Response:
        user = request_user(request)
        data = validated(LinkSerializer, request.data)
        provider = data["provider"]
        if data.get("id_token"):
            identity = providers.identity_from_id_token(
                request=request, provider_id=provider, id_token=data["id_token"]
            )
        else:
            state = state_take_for_link(data["state"], provider, user_id=str(user.id))
            identity = providers.identity_from_code(request=request, state=state, code=data["code"])
        user = services.oauth_link(user=user, identity=identity, meta=request_meta(request))
        return Response(MeSerializer(user).data)

    @sign_in_method_removal_schema(
        "unlinkOauth",
        "Remove an OAuth provider from the signed-in account",
        "it is",
        also="; 404 when the provider is unknown or not linked.",
        parameters=[PROVIDER_PARAMETER],
        errors=(404,),
    )
    def unlink(self, request: Request, provider: str) -> Response:
        if provider not in settings.OAUTH_PROVIDERS:  # unlinking needs no credentials
            raise providers.UnknownProvider()
        data = validated(ReauthenticationSerializer, request.data)
        user = services.oauth_unlink(
            user=request_user(request),
            provider_id=provider,
            proof=request_reauthentication(request, data.get("current_password")),
            meta=request_meta(request),
        )
        return Response(MeSerializer(user).data)

    def get_permissions(self) -> list[Any]:
        if self.action in ("link", "unlink"):
            return [IsAuthenticated()]
        return list(super().get_permissions())


@extend_schema(tags=["auth"])
class OAuthCallbackView(PublicView):
    """Where the provider sends the browser back. No credentials: it is a navigation (for
    Apple a cross-site form POST); the state is what ties it to the flow."""

    throttle_classes = [OAuthThrottle]
    parser_classes = [FormParser, JSONParser]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # an inactive account's sign-in answers 401, as elsewhere

    @extend_schema(
        operation_id="oauthCallback",
        summary="OAuth provider callback (browser navigation)",
        description=_CALLBACK_DESCRIPTION,
        auth=[],
        parameters=[PROVIDER_PARAMETER, CallbackSerializer],
        responses=_CALLBACK_RESPONSES,
    )
    def get(self, request: Request, provider: str) -> HttpResponse:
        providers.provider_check(provider)
        # Apple posts the answer (response_mode=form_post); the others redirect with a GET.
        data = validated(
            CallbackSerializer, request.data if request.method == "POST" else request.query_params
        )
        state = state_peek(data["state"], provider)
        if state.purpose == Purpose.LINK and "error" not in data and data.get("code"):
            # The signed-in client completes it: /auth/oauth/link with its Bearer token.
            return _client_redirect(
                client_redirect(
                    state.redirect_uri,
                    {"provider": provider, "code": data["code"], "state": state.token},
                )
            )
        state = state_take(data["state"], provider)
        if "error" in data:
            code = "oauth_cancelled" if data["error"] == "access_denied" else None
            raise providers.ProviderRefused(attr="error", code=code or "oauth_provider_error")
        if not data.get("code"):
            raise exceptions.ValidationError({"code": ["This field is required."]}, code="required")
        identity = providers.identity_from_code(
            request=request, state=state, code=data["code"], user_json=data.get("user", "")
        )
        meta = request_meta(request)
        user, _ = services.oauth_sign_in(identity=identity, meta=meta)
        if state.redirect_uri:
            one_time = exchange_code_issue(
                user_id=str(user.id), client_code_challenge=state.client_code_challenge
            )
            return _client_redirect(
                client_redirect(state.redirect_uri, {"code": one_time, "state": state.client_state})
            )
        return _no_store(Response(signed_in(user=user, meta=meta)))

    @extend_schema(
        operation_id="oauthCallbackFormPost",
        summary="OAuth provider callback (Apple's form POST)",
        description=_CALLBACK_DESCRIPTION,
        auth=[],
        parameters=[PROVIDER_PARAMETER],
        request={"application/x-www-form-urlencoded": CallbackSerializer},
        responses=_CALLBACK_RESPONSES,
    )
    def post(self, request: Request, provider: str) -> HttpResponse:
        return self.get(request, provider)
