"""Writes of the engine. Filled in by the engine issue; the pipeline already calls these."""

from __future__ import annotations

import uuid

from recommendations.cache import user_cache_bump


def user_recompute(*, user_id: uuid.UUID) -> None:
    """Recompute signals, personas and recommendations for one user (engine: to come)."""
    user_cache_bump(user_id=user_id)


def user_derived_erase(*, user_id: uuid.UUID) -> dict[str, int]:
    """Erase every row the engine derived for this user."""
    user_cache_bump(user_id=user_id)
    return {}
