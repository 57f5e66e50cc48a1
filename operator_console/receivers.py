"""What the console does when a lower app announces (spendsense.events)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from operator_console.tallies import tallies_changed
from spendsense import events


def figures_changed(sender: Any, *, user_ids: Iterable[uuid.UUID] | None, **kwargs: Any) -> None:
    """A write moved what analytics count of these users now: their tallies are stale."""
    tallies_changed(user_ids=user_ids)


def connect() -> None:
    """Called once, from OperatorConsoleConfig.ready."""
    events.user_figures_changed.connect(figures_changed, dispatch_uid="console.figures")
