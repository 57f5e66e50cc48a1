"""Cached reads of one's own insights, answered without URL routing and DRF's dispatch.

``GET /api/v1/users/me/{profile,signals,persona,recommendations}`` is most of the API's
traffic, and once cached its answer is bytes in Redis (recommendations.cache.cached_body).
``CachedReadMiddleware`` is the last middleware, as Django's own ``FetchFromCacheMiddleware``
is: every other middleware runs for these requests as for any other (security headers, CSP,
CORS, host checks, ``Cache-Control``), and only routing and DRF's dispatch are skipped when
the answer is a cached body. Nothing here restates a rule:

- the token and the caller: ``accounts.tokens.access_token_decode`` and
  ``accounts.selectors.token_principal``, as ``JWTAuthentication`` calls them;
- who may read: ``consent.api.scoping.user_target``, as the view's ``get_object`` calls it;
- the rate limits: the view's own throttle classes, counted in the same round trip;
- the answer: the cached body of the user's current version, and the headers DRF adds.

Anything else goes on to the view, which answers it as it always does: another method, a query
string, an ``Accept`` other than plain JSON, a missing, bad or revoked token, no consent, a
throttled caller, a cache miss, the local-memory cache. When the round trip was made before
handing over, its result rides along (``request.prepared_auth``) and authentication uses it,
so nothing is counted twice. ``INSIGHTS_FAST_READS=false`` removes the middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework.exceptions import APIException

from accounts import tokens
from accounts.authentication import PreparedAuth, bearer_token
from accounts.selectors import token_principal
from consent.api.scoping import user_target
from recommendations.api.views import UserInsightsViewSet
from recommendations.cache import body_key, body_prefetch, fresh_body, recommendations_cache_name
from recommendations.selectors import recommendation_statuses
from spendsense.api.permissions import Perm, may
from spendsense.api.responses import RenderedJSONResponse
from spendsense.api.throttles import throttle_windows
from spendsense.redis import Batch, redis_client

PREFIX = "/api/v1/users/me/"
NAMES = ("profile", "signals", "persona", "recommendations")
# The Allow header DRF sends for these detail actions (GET, and the HEAD and OPTIONS it adds).
ALLOW = "GET, HEAD, OPTIONS"
# Accept values DRF's negotiation answers with the one JSONRenderer and no media parameters.
JSON_ACCEPTS = frozenset({"*/*", "application/*", "application/json"})


@lru_cache(maxsize=2)
def _first_page_name(operator: bool) -> str:
    """The cache name of a recommendations read without query."""
    statuses = recommendation_statuses(operator=operator, wanted=None)
    return recommendations_cache_name(
        statuses=statuses, operator=operator, page=None, page_size=None
    )


class CachedReadMiddleware:
    """Answers cached reads of one's own insights (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not settings.INSIGHTS_FAST_READS:
            raise MiddlewareNotUsed()
        self.get_response = get_response
        self.routes = {PREFIX + name: name for name in NAMES}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        name = self.routes.get(request.path_info)
        redis = redis_client() if name is not None and self._plain(request) else None
        if name is None or redis is None:
            return self.get_response(request)
        return self._answer(request, name, redis) or self.get_response(request)

    @staticmethod
    def _plain(request: HttpRequest) -> bool:
        """A GET without a query string, asking for plain JSON."""
        meta = request.META
        if request.method != "GET" or meta.get("QUERY_STRING"):
            return False
        accept = meta.get("HTTP_ACCEPT")
        if accept is None:
            return True
        return ";" not in accept and any(a.strip() in JSON_ACCEPTS for a in accept.split(","))

    def _answer(self, request: HttpRequest, name: str, redis: Any) -> HttpResponse | None:
        """The cached answer, or None (after leaving the round trip's result on the
        request when one was made)."""
        token = bearer_token(request)
        if not token:
            return None
        try:
            claims = tokens.access_token_decode(token)
        except tokens.TokenError:
            return None
        user_id = claims["sub"]
        operator = may(claims, Perm.READ_ANY_USER)  # names the entry; checked below
        consent_required = name in UserInsightsViewSet.consent_required_for
        if name == "recommendations":
            name = _first_page_name(operator)
        batch = Batch(redis)
        throttles = [throttle() for throttle in UserInsightsViewSet.throttle_classes]
        batch.counters += throttle_windows(throttles, user_id)
        body_prefetch(batch, user_id=user_id, name=name)
        user = token_principal(claims=claims, batch=batch)
        request.prepared_auth = PreparedAuth(token, claims, user, batch)  # type: ignore[attr-defined]
        if user is None or may(user, Perm.READ_ANY_USER) != operator:
            return None
        try:
            user_target(caller=user, user_ref="me", consent_required=consent_required)
        except APIException:  # the view refuses it, in the one error format
            return None
        request.user = user  # the throttles count by it; the access line names it
        # The throttles read this round trip's counts from a copy: handed over, the view's
        # throttles read them again from the original, and nothing is counted twice.
        request.cache_batch = replace(batch, counts=dict(batch.counts))  # type: ignore[attr-defined]
        if not all(throttle.allow_request(request, None) for throttle in throttles):  # type: ignore[arg-type]
            return None
        body = fresh_body(batch.found.get(body_key(user_id, name)), user.insights_cache_version)  # type: ignore[attr-defined]
        if body is None:
            return None
        response = RenderedJSONResponse(body)
        response["Allow"] = ALLOW
        return response
