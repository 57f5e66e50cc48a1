"""Per-user cache versions: bumping a user's version makes every cached read of theirs stale."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

STATS_TTL = 40 * 24 * 3600  # daily hit/miss counters outlive the longest analytics range


def version_key(user_id: uuid.UUID | str) -> str:
    return _version_key(user_id)


def _version_key(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}:v"


def user_cache_version(*, user_id: uuid.UUID | str) -> int:
    version = cache.get(_version_key(user_id))
    if version is None:
        cache.add(_version_key(user_id), 1, timeout=None)
        version = cache.get(_version_key(user_id)) or 1
    return int(version)


def user_cache_bump(*, user_id: uuid.UUID | str) -> None:
    """Invalidate every cached read of this user (recompute, consent change, review)."""
    try:
        cache.incr(_version_key(user_id))
    except ValueError:
        cache.add(_version_key(user_id), 2, timeout=None)


def _count(kind: str) -> None:
    key = f"stats:insights_cache:{kind}:{timezone.now().date().isoformat()}"
    try:
        cache.incr(key)
    except ValueError:
        if not cache.add(key, 1, timeout=STATS_TTL):
            cache.incr(key)


def cached_read(
    *, user_id: uuid.UUID | str, name: str, build: Callable[[], Any], version: int | None = None
) -> Any:
    """``build()``'s result, cached under the user's current version (see user_cache_bump).
    ``version``: the caller already read it in this request (authentication does)."""
    if version is None:
        version = user_cache_version(user_id=user_id)
    key = f"user:{user_id}:v{version}:{name}"
    value = cache.get(key)
    if value is not None:
        _count("hit")
        return value
    _count("miss")
    value = build()
    cache.set(key, value, timeout=settings.INSIGHTS_CACHE_SECONDS)
    return value


def cache_stats(*, days: list[date]) -> dict[str, int]:
    """Hits and misses of the insights cache over these days (kept 40 days)."""
    keys = [
        f"stats:insights_cache:{kind}:{day.isoformat()}" for kind in ("hit", "miss") for day in days
    ]
    values = cache.get_many(keys)
    hits = sum(int(v) for k, v in values.items() if ":hit:" in k)
    misses = sum(int(v) for k, v in values.items() if ":miss:" in k)
    return {"hits": hits, "misses": misses}
