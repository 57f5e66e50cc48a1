"""Fixtures of the recommendations tests."""

from __future__ import annotations

from typing import Any

import pytest
from redis.connection import AbstractConnection


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a request's commands went to Redis (each send is one round trip)."""
    sent: list[int] = []
    real = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent
