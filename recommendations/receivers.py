"""What the engine does when a lower app announces (spendsense.events)."""

from __future__ import annotations

import uuid
from typing import Any

from recommendations.services import user_derived_erase, user_recompute
from recommendations.state import Rows, rollups_after, rollups_before
from spendsense import events


def erase_derived(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> dict[str, int]:
    """A user's uploaded rows are being erased: what the engine derived goes with them."""
    return user_derived_erase(user_id=user_id)


def recompute(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> None:
    """An upload was processed: signals, personas and recommendations are computed anew."""
    user_recompute(user_id=user_id)


def consent_changing(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> None:
    """A user's consent is about to change: analytics' rollups lose what they counted of the
    user's rows (their row locked by the sender; their items locked here)."""
    rollups_before(user_id=user_id)


def consent_changed(sender: Any, *, user_id: uuid.UUID, **kwargs: Any) -> None:
    """A user's consent changed: analytics' rollups count the user's rows as staff may now
    see them (the built days are those of ``consent_changing``: its lock is held)."""
    rollups_after(Rows(user_id=user_id))


def connect() -> None:
    """Called once, from RecommendationsConfig.ready."""
    events.user_derived_erase.connect(erase_derived, dispatch_uid="recommendations.erase")
    events.user_data_changed.connect(recompute, dispatch_uid="recommendations.recompute")
    events.user_consent_changing.connect(
        consent_changing, dispatch_uid="recommendations.consent_changing"
    )
    events.user_consent_changed.connect(consent_changed, dispatch_uid="recommendations.consent")
