"""Cached reads of one's own insights, answered before the rest of the stack.

``GET /api/v1/users/me/{profile,signals,persona,recommendations}`` is most of the API's
traffic, and once cached its answer is bytes in Redis (recommendations.cache.cached_body).
Through the full stack such a read spends about half its time in URL routing, DRF's
dispatch and middleware that has nothing to do for it. ``CachedReadMiddleware`` sits early in
``MIDDLEWARE`` and answers the common case itself, with the same checks, the same one Redis
round trip, and the same bytes and headers:

- the access token (accounts.tokens), its deny-list entry, its session, the user's cache
  version and user row (accounts.selectors.token_principal), an active user;
- the user's consent, and the user throttle (spendsense.api.throttles.UserRateThrottle,
  counted in that round trip as the full stack counts it);
- the cached body of the user's current version;
- the response hooks of the middleware after this one (security headers, CSP, CORS's
  ``Vary``, ``X-Frame-Options``, ``Content-Length``), run as the chain would run them.

Anything else goes to the full stack, which answers it as it always did: another method, a
query string, an ``Origin`` or an ``Accept`` other than JSON, a missing, bad or revoked
token, no consent, a throttled caller, a cache miss, Redis down. When the round trip was
made before handing over, its result rides along (``request.prepared_auth``) and
authentication uses it: nothing is counted twice and no second round trip is made.

``tests/test_fast_reads.py`` checks that both ways give byte-identical answers. Adding a
middleware after this one fails at start-up until it is classified below.
``INSIGHTS_FAST_READS=false`` turns the middleware off.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ImproperlyConfigured,
    MiddlewareNotUsed,
    PermissionDenied,
    SuspiciousOperation,
)
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.module_loading import import_string

from accounts import tokens
from accounts.authentication import PreparedAuth
from accounts.selectors import token_principal
from consent.selectors import consent_granted
from recommendations.cache import (
    body_key,
    body_prefetch,
    fresh_body,
    recommendations_cache_name,
)
from recommendations.selectors import recommendation_statuses
from spendsense.api.permissions import Perm, claims_have
from spendsense.api.responses import RenderedJSONResponse
from spendsense.api.throttles import UserRateThrottle, user_throttle
from spendsense.redis import Batch, redis_client

PREFIX = "/api/v1/users/me/"
NAMES = ("profile", "signals", "persona", "recommendations")
# What DRF's detail actions send (GET, and the HEAD and OPTIONS it adds).
ALLOW = "GET, HEAD, OPTIONS"
# Accept values DRF's negotiation answers with the one JSONRenderer and no media parameters.
JSON_ACCEPTS = frozenset({"*/*", "application/*", "application/json"})

# Every middleware after this one in MIDDLEWARE, and what it does to the requests answered
# here. "replay": its process_request and process_response run here as in the chain (a
# process_request that answers hands the request to the chain). "cors": django-cors-headers'
# add_response_headers. "idle": nothing, for the reason given.
AFTER: dict[str, str] = {
    "django.middleware.security.SecurityMiddleware": "replay",
    "whitenoise.middleware.WhiteNoiseMiddleware": "idle: static files only",
    "spendsense.api.middleware.CSPMiddleware": "replay",
    "corsheaders.middleware.CorsMiddleware": "cors",
    "spendsense.api.middleware.ConsoleSessionMiddleware": "idle: skips /api/v1/",
    "django.middleware.common.CommonMiddleware": "replay",
    "django.middleware.csrf.CsrfViewMiddleware": "idle: API views are csrf-exempt, no cookie",
    "spendsense.api.middleware.ConsoleAuthenticationMiddleware": "idle: skips /api/v1/",
    "spendsense.api.middleware.ConsoleMessageMiddleware": "idle: skips /api/v1/",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "replay",
    "allauth.account.middleware.AccountMiddleware": "idle: acts on allauth's own pages only",
}


@lru_cache(maxsize=2)
def _first_page_name(operator: bool) -> str:
    """The cache name of a recommendations read without query."""
    statuses = recommendation_statuses(operator=operator, wanted=None)
    return recommendations_cache_name(
        statuses=statuses, operator=operator, page=None, page_size=None
    )


def _check_the_view_checks_what_this_checks() -> None:
    """The view these reads would reach must authenticate, permit, throttle and render as
    this middleware does; a change there stops start-up until this module follows it."""
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.renderers import JSONRenderer

    from accounts.authentication import JWTAuthentication
    from recommendations.api.views import UserInsightsViewSet
    from spendsense.api.throttles import AnonRateThrottle

    view = UserInsightsViewSet
    expected = {
        "authentication_classes": JWTAuthentication,  # first: the one a Bearer token meets
        "permission_classes": [IsAuthenticated],
        "throttle_classes": [UserRateThrottle, AnonRateThrottle],
        "renderer_classes": [JSONRenderer],
    }
    found = {
        "authentication_classes": view.authentication_classes[0],
        "permission_classes": list(view.permission_classes),
        "throttle_classes": list(view.throttle_classes),
        "renderer_classes": list(view.renderer_classes),
    }
    for name, value in expected.items():
        if found[name] != value:
            raise ImproperlyConfigured(
                f"UserInsightsViewSet.{name} changed: {found[name]!r}; "
                "recommendations/api/fast_reads.py answers some of its reads and must follow"
            )


def _unused(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("replayed middleware never calls the rest of the chain")


class CachedReadMiddleware:
    """Answers cached reads of one's own insights (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not settings.INSIGHTS_FAST_READS:
            raise MiddlewareNotUsed()
        self.get_response = get_response
        self.before: list[Any] = []  # process_request, in MIDDLEWARE order
        self.after: list[Callable[[HttpRequest, HttpResponseBase], Any]] = []  # reversed
        path = f"{type(self).__module__}.{type(self).__name__}"
        for name in settings.MIDDLEWARE[settings.MIDDLEWARE.index(path) + 1 :]:
            role = AFTER.get(name)
            if role is None:
                raise ImproperlyConfigured(
                    f"{name} comes after {path}: say in AFTER what it does to the reads "
                    "answered there, or put it before"
                )
            if role == "idle" or role.startswith("idle:"):
                continue
            instance = import_string(name)(_unused)
            if role == "replay":
                if hasattr(instance, "process_request"):
                    self.before.append(instance.process_request)
                if hasattr(instance, "process_response"):
                    self.after.insert(0, instance.process_response)
            else:
                self.after.insert(0, instance.add_response_headers)
        _check_the_view_checks_what_this_checks()
        self.routes = {PREFIX + name: name for name in NAMES}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        name = self.routes.get(request.path_info)
        redis = redis_client() if name is not None and self._plain(request) else None
        if name is None or redis is None:
            return self.get_response(request)
        try:
            for process_request in self.before:
                if process_request(request) is not None:  # a redirect, say: the chain's
                    return self.get_response(request)
        except (SuspiciousOperation, PermissionDenied):  # a bad Host: the chain answers
            return self.get_response(request)
        response = self._answer(request, name, redis)
        if response is None:
            return self.get_response(request)
        for process_response in self.after:
            response = process_response(request, response)
        return response

    @staticmethod
    def _plain(request: HttpRequest) -> bool:
        """A GET without query, Origin or non-JSON Accept."""
        meta = request.META
        if request.method != "GET" or meta.get("QUERY_STRING") or "HTTP_ORIGIN" in meta:
            return False
        accept = meta.get("HTTP_ACCEPT")
        if accept is None:
            return True
        return ";" not in accept and any(a.strip() in JSON_ACCEPTS for a in accept.split(","))

    def _answer(self, request: HttpRequest, name: str, redis: Any) -> HttpResponse | None:
        """The cached answer, or None (after leaving the round trip's result on the
        request when one was made)."""
        keyword, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if keyword.lower() != "bearer" or not token:
            return None
        try:
            claims = tokens.access_token_decode(token)
        except tokens.TokenError:
            return None
        user_id = claims["sub"]
        if name == "recommendations":
            name = _first_page_name(claims_have(claims, Perm.READ_ANY_USER))
        batch = Batch(redis)
        throttle, key = user_throttle(user_id) or (None, "")
        if throttle is not None:
            batch.counters.append(throttle.window(key))
        body_prefetch(batch, user_id=user_id, name=name)
        user = token_principal(claims=claims, batch=batch)
        request.prepared_auth = PreparedAuth(token, claims, user, batch)  # type: ignore[attr-defined]
        if user is None or not consent_granted(user=user):
            return None
        if throttle is not None and not throttle.hit(key, precounted=dict(batch.counts)):
            return None
        version = getattr(user, "insights_cache_version", None)
        body = fresh_body(batch.found.get(body_key(user_id, name)), version)
        if body is None:
            return None
        request.user = user  # the access line names the caller
        response = RenderedJSONResponse(body)
        response["Allow"] = ALLOW
        return response
