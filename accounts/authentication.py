"""How callers prove who they are: Bearer access tokens (people) and API keys (services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_api_key.models import AbstractAPIKey, APIKey
from rest_framework_api_key.permissions import KeyParser

from accounts import tokens
from accounts.audit import Action, audit_record
from accounts.models import User
from accounts.selectors import token_principal
from spendsense.api.request import request_meta
from spendsense.api.throttles import refused_credentials_allowed, throttle_windows
from spendsense.redis import Batch, redis_client


class InvalidToken(exceptions.AuthenticationFailed):
    default_detail = "The access token is invalid or expired."
    default_code = "token_not_valid"


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header ("" when it names none);
    None for any other scheme."""
    keyword, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if keyword.lower() == "bearer" else None


def refuse(request: Request, error: exceptions.AuthenticationFailed) -> exceptions.APIException:
    """The answer to refused credentials: counted against the client IP's anonymous budget
    (never the user's), and 429 once that is spent."""
    allowed, wait = refused_credentials_allowed(request)
    return error if allowed else exceptions.Throttled(wait=wait)


@dataclass
class PreparedAuth:
    """The authentication round trip made before DRF ran (recommendations.api.fast_reads),
    for a request then handed to the full stack: authentication reuses it."""

    token: str
    claims: dict[str, Any]
    user: User | None
    batch: Batch


def prepared_auth(request: Any, token: str) -> PreparedAuth | None:
    """What CachedReadMiddleware already did for this request and token, if anything."""
    prepared = getattr(request, "prepared_auth", None)
    if isinstance(prepared, PreparedAuth) and prepared.token == token:
        return prepared
    return None


class JWTAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>``.

    The token must verify (RS256, known ``kid``, right ``iss``/``aud``, not expired), must not be
    on the logout deny-list, and its session must be live. ``request.auth`` is the claims.
    """

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[User, dict[str, Any]] | None:
        token = bearer_token(request)
        if token is None:
            return None
        if not token:
            raise refuse(request, InvalidToken())
        prepared = prepared_auth(request, token)
        if prepared is not None:  # a cached read the fast path handed over, checked already
            claims, user = prepared.claims, prepared.user
            request.cache_batch = prepared.batch  # type: ignore[attr-defined]
        else:
            try:
                claims = tokens.access_token_decode(token)
            except tokens.TokenError as error:
                raise refuse(request, InvalidToken(code=error.code)) from None
            batch = self._batch(request, claims)
            user = token_principal(claims=claims, batch=batch)
        if user is None:
            raise refuse(request, InvalidToken())
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    @staticmethod
    def _batch(request: Request, claims: dict[str, Any]) -> Batch | None:
        """On Redis, what rides on the token checks' round trip: the user-throttle count and
        whatever cached entries the view says it will read (``cache_prefetch``)."""
        redis = redis_client()
        if redis is None:
            return None
        batch = Batch(redis)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if view is not None:
            batch.counters += throttle_windows(view.get_throttles(), claims["sub"])
        prefetch = getattr(view, "cache_prefetch", None)
        if prefetch is not None:
            prefetch(request, claims, batch)
        request.cache_batch = batch  # type: ignore[attr-defined]
        return batch


class InvalidAPIKey(exceptions.AuthenticationFailed):
    default_detail = "Invalid API key."
    default_code = "api_key_not_valid"


class APIKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` for service-to-service reads.

    The caller stays anonymous (no user); ``request.auth`` is the APIKey, which only the
    permissions that accept API keys let through. Every use is audited.
    """

    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[AnonymousUser, AbstractAPIKey] | None:
        key = self.parser.get(request)
        if key is None:
            return None
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist:
            raise refuse(request, InvalidAPIKey()) from None
        # get_from_key checked the hash and revocation; expiry is only checked by the manager.
        if api_key.has_expired:
            raise refuse(request, InvalidAPIKey())
        audit_record(
            action=Action.API_KEY_USE,
            actor_id=None,
            meta=request_meta(request),
            target_type="api_key",
            target_id=api_key.prefix,
            details={"name": api_key.name, "method": request.method, "path": request.path},
        )
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Api-Key realm="api"'
