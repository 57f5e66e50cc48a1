"""Throttles counted atomically in the cache (Redis in production).

DRF's stock throttles keep a history list per client and write it back after reading it:
two concurrent requests can both read "4 of 5" and both pass. Here a request is counted with
``cache.add`` (create the window's counter once) then ``cache.incr`` (atomic in Redis and in
the local-memory cache), so N concurrent requests see N distinct counts.

Windows are fixed: the counter key names the window (``.../<window index>``), and
``Retry-After`` is the time to the window's end.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from rest_framework import exceptions, throttling

from spendsense.redis import count_commands, redis_client, request_batch, round_trip

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # DRF's views import the throttle classes named in settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


_NOT_REDIS: Any = object()


def _redis_count(key: str, ttl: int) -> Any:
    """INCR and set the expiry in one round trip when the cache is Redis; ``_NOT_REDIS``
    otherwise; None when Redis is unreachable."""
    try:
        redis = redis_client()
        if redis is None:
            return _NOT_REDIS
        return int(round_trip(redis, count_commands(key, ttl))[0])
    except Exception:  # unreachable: the caller applies the throttle's fail mode
        logger.warning("throttle cache unreachable", exc_info=True)
        return None


class AtomicRateThrottleMixin:
    """Replaces SimpleRateThrottle's read-modify-write history with an atomic counter."""

    rate: str | None
    num_requests: int
    duration: int
    key: str | None

    if TYPE_CHECKING:  # provided by SimpleRateThrottle, later in the MRO

        def get_cache_key(self, request: Request, view: APIView) -> str | None: ...
        def timer(self) -> float: ...

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        batch = request_batch(request)
        return self.hit(self.key, precounted=batch.counts if batch is not None else None)

    def window(self, key: str) -> tuple[str, int]:
        """The counter of ``key``'s current window and its lifetime (the window, plus a second
        so an incr at the edge finds it)."""
        now = self.timer()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now
        return f"{key}:{window}", self.duration + 1

    def hit(self, key: str, precounted: dict[str, int | None] | None = None) -> bool:
        """Count one request under ``key``; True while the window's count is within the rate.
        ``precounted``: counts already taken in this request's authentication round trip."""
        counter, ttl = self.window(key)
        if precounted is not None and counter in precounted:
            count = precounted.pop(counter)
        else:
            count = _redis_count(counter, ttl)
        if count is _NOT_REDIS:
            cache.add(counter, 0, timeout=ttl)
            try:
                count = cache.incr(counter)
            except ValueError:
                # Evicted between add and incr: start the window again at one.
                cache.add(counter, 1, timeout=ttl)
                count = 1
        if count is None:  # the cache is unreachable (django-redis ignores the error)
            return self.cache_unavailable()
        return bool(count <= self.num_requests)

    # Whether requests pass while the cache that counts them is down. General limits fail
    # open (the API stays up); sign-in limits fail closed (no unlimited guessing).
    fail_open = True

    def cache_unavailable(self) -> bool:
        logger.warning("throttle cache unavailable", extra={"scope": getattr(self, "scope", None)})
        if self.fail_open:
            return True
        raise ThrottleUnavailable()

    def wait(self) -> float:
        return max(getattr(self, "_wait", 0.0), 1.0)


class ThrottleUnavailable(exceptions.APIException):
    # Not spendsense.api.errors.ServiceUnavailable: DRF imports this module while that one
    # is still importing DRF.
    status_code = 503
    default_code = "throttle_unavailable"
    default_detail = "Sign-in is briefly unavailable; try again in a minute."


class ScopedRateThrottle(AtomicRateThrottleMixin, throttling.ScopedRateThrottle):
    """Per-view scope (``throttle_scope``), per user or client IP."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        # DRF's ScopedRateThrottle learns its rate from the view here, not in __init__.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]
        return super().allow_request(request, view)


class UserRateThrottle(AtomicRateThrottleMixin, throttling.UserRateThrottle):
    """Everything, per signed-in user."""


def throttle_windows(throttles: list[Any], user_id: str) -> list[tuple[str, int]]:
    """The counters (and their lifetimes) that the per-user throttles among ``throttles``
    will count ``user_id`` under: authentication counts them in its own round trip to the
    cache (accounts.selectors.token_principal), and the throttles read those counts."""
    windows = []
    for throttle in throttles:
        if isinstance(throttle, UserRateThrottle) and throttle.rate is not None:
            ident = throttle.cache_format % {"scope": throttle.scope, "ident": user_id}
            windows.append(throttle.window(ident))
    return windows


class AnonRateThrottle(AtomicRateThrottleMixin, throttling.AnonRateThrottle):
    """Everything, per client IP, for anonymous callers."""


def refused_credentials_allowed(request: Request) -> tuple[bool, float]:
    """Count a request whose credentials were refused (a bad, expired, denied or revoked
    token, an unknown API key) against its IP's anonymous budget, never a user's: (whether
    the IP is still within it, the wait when not)."""
    throttle = AnonRateThrottle()
    if throttle.rate is None:
        return True, 0.0
    ident = throttle.cache_format % {"scope": throttle.scope, "ident": throttle.get_ident(request)}
    return throttle.hit(ident), throttle.wait()


class IPRateThrottle(AtomicRateThrottleMixin, throttling.SimpleRateThrottle):
    """Per client IP whoever the caller is; subclasses name the ``scope``."""

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle_for(scope_name: str, *, fail_open: bool = True) -> type[IPRateThrottle]:
    """A per-IP throttle class for one named rate of ``THROTTLE_RATES``."""
    attrs: dict[str, Any] = {
        "scope": scope_name,
        "fail_open": fail_open,
        "__doc__": f"{scope_name} per client IP.",
    }
    return type(f"{scope_name.title().replace('_', '')}IPThrottle", (IPRateThrottle,), attrs)
