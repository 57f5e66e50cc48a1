"""What the engine does when a lower app announces (spendsense.events)."""

from __future__ import annotations

import uuid
from typing import Any

from recommendations.services import user_derived_erase, user_recompute
from recommendations.state import user_rollups_unbuild
from spendsense import events


def erase_derived(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> dict[str, int]:
    """A user's uploaded rows are being erased: what the engine derived goes with them."""
    return user_derived_erase(user_id=user_id)


def recompute(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> None:
    """An upload was processed: signals, personas and recommendations are computed anew."""
    user_recompute(user_id=user_id)


def consent_changed(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> int:
    """A user's consent changed: analytics count the days they touched anew."""
    return user_rollups_unbuild(user_id=user_id)


def connect() -> None:
    """Called once, from RecommendationsConfig.ready."""
    events.user_derived_erase.connect(erase_derived, dispatch_uid="recommendations.erase")
    events.user_data_changed.connect(recompute, dispatch_uid="recommendations.recompute")
    events.user_consent_changed.connect(consent_changed, dispatch_uid="recommendations.consent")
