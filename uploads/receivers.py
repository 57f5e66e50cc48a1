"""What the uploads app does when a lower app announces (spendsense.events)."""

from __future__ import annotations

from typing import Any

from spendsense import events
from uploads.services import user_data_erase


def erase_user_data(sender: Any, *, user: Any, **kwargs: Any) -> dict[str, int]:
    """Account deletion or consent revocation with ``delete_data``: every upload goes."""
    return user_data_erase(user=user)


def connect() -> None:
    """Called once, from UploadsConfig.ready."""
    events.user_data_erase.connect(erase_user_data, dispatch_uid="uploads.erase_user_data")
