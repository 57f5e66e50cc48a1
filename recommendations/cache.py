"""Cached insight bodies: what a user's profile, signals, persona and recommendations reads
answer, stored rendered, as entries of spendsense.coherence (stale at the user's next
version, refused if written late, erased with the user's data)."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from spendsense import coherence
from spendsense.redis import Batch, count_commands, decode, redis_client, round_trip

logger = logging.getLogger(__name__)

STATS_TTL = 40 * 24 * 3600  # daily hit/miss counters outlive the longest analytics range


def _stat_key(kind: str, day: date | None = None) -> str:
    """The counter of ``kind`` (lookup or miss) on ``day``, today by default."""
    return f"stats:insights_cache:{kind}:{(day or timezone.now().date()).isoformat()}"


def _count(kind: str) -> None:
    key = _stat_key(kind)
    try:
        cache.incr(key)
    except ValueError:
        if not cache.add(key, 1, timeout=STATS_TTL):
            cache.incr(key)


def _get_counted(key: str) -> Any:
    """``cache.get(key)``, counting the lookup; on Redis both go in one round trip."""
    try:
        redis = redis_client()
        if redis is None:  # the local-memory cache
            _count("lookup")
            return cache.get(key)
        get = ("GET", cache.make_key(key))
        raw = round_trip(redis, [get, *count_commands(_stat_key("lookup"), STATS_TTL)])[0]
    except Exception:  # Redis unreachable: a miss, and the reader goes to the database
        logger.warning("insights cache unreachable", exc_info=True)
        return None
    return None if raw is None else decode(raw)


def body_key(user_id: uuid.UUID | str, name: str) -> str:
    return coherence.entry_key(user_id, f"body:{name}")


def body_prefetch(batch: Batch, *, user_id: uuid.UUID | str, name: str) -> None:
    """Ask authentication's round trip to read this body and count the lookup with it."""
    batch.keys.append(body_key(user_id, name))
    batch.counters.append((_stat_key("lookup"), STATS_TTL))


def recommendations_cache_name(
    *, statuses: list[str], operator: bool, page: str | None, page_size: str | None
) -> str:
    """The cache name of a recommendations read: one per distinct answer (statuses, role
    and page)."""
    query = json.dumps([statuses, operator, page, page_size])
    return "recommendations:" + hashlib.sha256(query.encode()).hexdigest()[:16]


def fresh_body(entry: Any, version: int | None) -> bytes | None:
    """The rendered body of a cached entry, unless it is missing or stale."""
    body = coherence.fresh(entry, version)
    return None if body is None else bytes(body)


def cached_body(
    *,
    user_id: uuid.UUID | str,
    name: str,
    build: Callable[[], Any],
    version: int | None = None,
    batch: Batch | None = None,
) -> bytes:
    """``build()``'s result rendered as the API's JSON, cached for the user's current
    version: a hit costs no rendering, and an entry of an older version is a miss.
    ``version``: the caller read it in this request already (authentication does), before
    anything was read from the database; ``batch``: authentication's round trip may have read
    the entry already (body_prefetch), and then a hit costs no round trip."""
    if version is None:
        version = coherence.current_version(user_id)
    key = body_key(user_id, name)
    # Prefetched by authentication's round trip (which counted the lookup), or read now.
    prefetched = batch.found if batch is not None and key in batch.keys else None
    entry = prefetched.get(key) if prefetched is not None else _get_counted(key)
    body = fresh_body(entry, version)
    if body is not None:
        return body
    _count("miss")
    body = bytes(JSONRenderer().render(build()))
    coherence.store(
        user_id, f"body:{name}", body, version=version, ttl=settings.INSIGHTS_CACHE_SECONDS
    )
    return body


def cache_stats(*, days: list[date]) -> dict[str, int]:
    """Hits and misses of the insights cache over these days (kept 40 days)."""
    keys = [_stat_key(kind, day) for kind in ("lookup", "miss") for day in days]
    values = cache.get_many(keys)
    lookups = sum(int(v) for k, v in values.items() if ":lookup:" in k)
    misses = sum(int(v) for k, v in values.items() if ":miss:" in k)
    # Lookups are counted with the read itself (no second round trip); hits follow.
    return {"hits": max(lookups - misses, 0), "misses": misses}
