"""bench_engine runs end to end (recompute runs in operator_console/tests/test_seed_demo.py)."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command as django_call_command

from accounts.models import User
from tests.support.commits import committed

pytestmark = pytest.mark.django_db


def call_command(*args: Any, **kwargs: Any) -> None:
    """Run a command; what it enqueues on commit runs as after a real commit."""
    with committed():
        django_call_command(*args, **kwargs)


def test_bench_engine_prints_figures_and_cleans_up() -> None:
    out = StringIO()

    call_command("bench_engine", "--users", "3", stdout=out)

    text = out.getvalue()
    assert re.search(
        r"engine: 3 users in [\d.]+ s = [\d.]+ users/s \| per user p50 [\d.]+ ms, p95 [\d.]+ ms",
        text,
    )
    assert not User.objects.filter(email__startswith="bench-engine-").exists()
