"""Per-user cache versions: bumping a user's version makes every cached read of theirs stale."""

from __future__ import annotations

import uuid

from django.core.cache import cache


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
