"""OAuth with Google, GitHub, Facebook and Apple through django-allauth's provider code.

allauth does the provider-specific work: the authorization URL, the code exchange (Apple's
signed client secret included), id_token verification against the provider's keys, and
reading the profile into a uid and email addresses with their verified flags. Its views are
not used: they keep the flow's state in the Django session, which API clients do not carry.
Here the state (PKCE verifier, redirect URI, purpose, the linking user) lives in the cache
under a signed, single-use key (accounts.oauth.state), and the API issues its own tokens
(accounts.oauth.services, accounts.sessions).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import requests
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.apple.views import AppleOAuth2Adapter
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.facebook.views import FacebookOAuth2Adapter
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.urls import reverse
from rest_framework import exceptions

from accounts.oauth.state import FlowState, state_stash
from spendsense.api.errors import DomainError, ServiceUnavailable


class UnknownProvider(exceptions.NotFound):
    default_code = "unknown_provider"
    default_detail = "Unknown OAuth provider; use google, github, facebook or apple."


class ProviderNotConfigured(ServiceUnavailable):
    default_code = "oauth_provider_not_configured"
    default_detail = "Sign-in with this provider is not configured on this server."


class ProviderUnavailable(ServiceUnavailable):
    default_code = "oauth_provider_unavailable"
    default_detail = "The provider could not be reached; try again."


class ProviderRefused(DomainError):
    default_code = "oauth_provider_error"
    default_detail = "The provider did not confirm the sign-in."


# Token material in a provider's answers: never stored (Apple folds its token response into
# the profile data allauth hands back).
_TOKEN_KEYS = frozenset({"access_token", "refresh_token", "id_token", "token_type", "expires_in"})


# --- allauth glue -----------------------------------------------------------------------


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Provider credentials from settings (the environment) only, never from the database."""

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        apps = []
        for provider_id, conf in settings.OAUTH_APPS.items():
            if provider not in (None, provider_id):
                continue
            if client_id not in (None, conf["client_id"]):
                continue
            apps.append(
                SocialApp(
                    provider=provider_id,
                    name=provider_id,
                    client_id=conf["client_id"],
                    secret=conf["secret"],
                    key=conf["key"],
                    settings=conf["settings"],
                )
            )
        return apps


class _ApiFlow(OAuth2Adapter):
    """Mixed over each allauth adapter: our callback URL, and the code passed in explicitly
    (allauth reads it from request.GET, which a JSON body does not fill)."""

    callback_url = ""
    code = ""

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        return self.callback_url

    def get_access_token_data(
        self,
        request: HttpRequest,
        app: SocialApp,
        client: Any,
        pkce_code_verifier: str | None = None,
    ) -> dict[str, Any]:
        data = self.exchange(client, pkce_code_verifier)
        self.did_fetch_access_token = True
        return data

    def exchange(self, client: Any, pkce_code_verifier: str | None) -> dict[str, Any]:
        """The token endpoint's answer for ``self.code``; a provider that differs overrides it."""
        return dict(client.get_access_token(self.code, pkce_code_verifier=pkce_code_verifier))


class GoogleFlow(_ApiFlow, GoogleOAuth2Adapter):
    pass


class GitHubFlow(_ApiFlow, GitHubOAuth2Adapter):
    pass


class FacebookFlow(_ApiFlow, FacebookOAuth2Adapter):
    """Facebook's token endpoint takes a GET, and allauth's client drops the PKCE verifier
    from GET exchanges; it goes in as an extra parameter instead."""

    def exchange(self, client: Any, pkce_code_verifier: str | None) -> dict[str, Any]:
        extra = {"code_verifier": pkce_code_verifier} if pkce_code_verifier else None
        return dict(client.get_access_token(self.code, extra_data=extra))


class AppleFlow(_ApiFlow, AppleOAuth2Adapter):
    """Apple posts the callback (form_post) with a ``user`` JSON (the name, first sign-in
    only); allauth would carry it in a cookie session, we pass it in."""

    user_json = ""

    def exchange(self, client: Any, pkce_code_verifier: str | None) -> dict[str, Any]:
        data = super().exchange(client, pkce_code_verifier)
        # The form field comes through the browser, so anyone can write it: it may give a
        # name and nothing else. Identity and email come only from the id_token Apple's token
        # endpoint returned (a ``user`` with an email would fill in one the token lacks).
        try:
            user = json.loads(self.user_json) if self.user_json else {}
        except json.JSONDecodeError:
            user = {}
        name = user.get("name") if isinstance(user, dict) else None
        if not isinstance(name, dict):
            return data
        parts = {k: v for k, v in name.items() if k in ("firstName", "lastName")}
        return {**data, "name": {k: v[:150] for k, v in parts.items() if isinstance(v, str)}}

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: Any, **kwargs: Any
    ) -> Any:
        # parse_token verified the id_token against Apple's keys into token.user_data.
        return self.get_provider().sociallogin_from_response(request, token.user_data)


FLOWS: dict[str, type[_ApiFlow]] = {
    "google": GoogleFlow,
    "github": GitHubFlow,
    "facebook": FacebookFlow,
    "apple": AppleFlow,
}


def provider_check(provider_id: str) -> None:
    """404 for a provider we do not offer, 503 for one without credentials here."""
    if provider_id not in settings.OAUTH_PROVIDERS:
        raise UnknownProvider()
    if provider_id not in settings.OAUTH_APPS:
        raise ProviderNotConfigured()


def provider_get(request: HttpRequest, provider_id: str) -> OAuth2Provider:
    """allauth's provider with its app (see provider_check)."""
    provider_check(provider_id)
    provider: OAuth2Provider = get_social_adapter(request).get_provider(request, provider_id)
    return provider


def callback_url(request: HttpRequest, provider_id: str) -> str:
    """Our callback as registered with the provider."""
    path = reverse("oauth-callback", kwargs={"provider": provider_id})
    if settings.OAUTH_CALLBACK_BASE_URL:
        return settings.OAUTH_CALLBACK_BASE_URL + path
    return request.build_absolute_uri(path)


def _flow(request: HttpRequest, provider_id: str, url: str) -> _ApiFlow:
    flow = FLOWS[provider_id](request)
    flow.callback_url = url
    return flow


# --- authorize ---------------------------------------------------------------------------


def authorization_url(
    *,
    request: HttpRequest,
    provider_id: str,
    purpose: str,
    redirect_uri: str = "",
    client_state: str = "",
    client_code_challenge: str = "",
    user_id: str = "",
) -> str:
    """The provider's authorization URL for a new flow, its state stashed server-side."""
    provider = provider_get(request, provider_id)
    url = callback_url(request, provider_id)
    flow = _flow(request, provider_id, url)
    client = flow.get_client(request, provider.app)
    params = provider.get_auth_params()
    pkce = provider.get_pkce_params()  # {} when off; else verifier, challenge, S256
    verifier = pkce.pop("code_verifier", "")
    params.update(pkce)
    nonce = ""
    if provider_id == "apple":  # no PKCE at Apple: a nonce binds its id_token to this flow
        nonce = secrets.token_urlsafe(24)
        params["nonce"] = nonce
    client.state = state_stash(
        FlowState(
            provider=provider_id,
            purpose=purpose,
            callback_url=url,
            redirect_uri=redirect_uri,
            client_state=client_state,
            client_code_challenge=client_code_challenge,
            pkce_code_verifier=verifier,
            nonce=nonce,
            user_id=user_id,
        )
    )
    return str(client.get_redirect_url(flow.authorize_url, provider.get_scope(), params))


# --- identities --------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in. ``email`` is set only when the provider verified it."""

    provider: str
    uid: str
    email: str | None
    extra_data: dict[str, Any]


def _identity(provider_id: str, login: SocialLogin) -> Identity:
    verified = [address for address in login.email_addresses if address.verified]
    verified.sort(key=lambda address: not address.primary)
    extra = {k: v for k, v in login.account.extra_data.items() if k not in _TOKEN_KEYS}
    return Identity(
        provider=provider_id,
        uid=str(login.account.uid),
        email=verified[0].email.strip().lower() if verified else None,
        extra_data=extra,
    )


def _provider_call(call: Any) -> SocialLogin:
    """Run allauth's provider code, mapping its failures to our errors."""
    try:
        login: SocialLogin = call()
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 502
        if status >= 500:
            raise ProviderUnavailable() from error
        raise ProviderRefused() from error
    except (requests.ConnectionError, requests.Timeout) as error:
        raise ProviderUnavailable() from error
    except (
        OAuth2Error,
        ProviderException,
        PermissionDenied,
        DjangoValidationError,
        requests.RequestException,
        KeyError,
    ) as error:
        raise ProviderRefused() from error
    return login


def identity_from_code(
    *, request: HttpRequest, state: FlowState, code: str, user_json: str = ""
) -> Identity:
    """Exchange the provider's code (with the PKCE verifier) and read who signed in."""
    provider = provider_get(request, state.provider)
    flow = _flow(request, state.provider, state.callback_url)
    flow.code = code
    if isinstance(flow, AppleFlow):
        flow.user_json = user_json

    def exchange() -> SocialLogin:
        app = provider.app
        client = flow.get_client(request, app)
        data = flow.get_access_token_data(
            request, app, client, pkce_code_verifier=state.pkce_code_verifier or None
        )
        token = flow.parse_token(data)
        login: SocialLogin = flow.complete_login(request, app, token, response=data)
        return login

    login = _provider_call(exchange)
    if state.nonce and not secrets.compare_digest(
        str(login.account.extra_data.get("nonce", "")), state.nonce
    ):
        raise ProviderRefused("The provider's answer does not belong to this sign-in.")
    return _identity(state.provider, login)


def identity_from_id_token(*, request: HttpRequest, provider_id: str, id_token: str) -> Identity:
    """Verify an id_token a client got from the provider's SDK: signature against the
    provider's published keys, issuer, expiry, and the audience (our client id)."""
    provider = provider_get(request, provider_id)
    if not getattr(provider, "supports_token_authentication", False):
        raise DomainError(
            "This provider issues no id_token; link it with code and state.",
            code="id_token_unsupported",
            attr="id_token",
        )
    login = _provider_call(lambda: provider.verify_token(request, {"id_token": id_token}))
    return _identity(provider_id, login)
