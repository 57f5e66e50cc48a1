"""bench_engine runs end to end (recompute runs in operator_console/tests/test_seed_demo.py)."""

from __future__ import annotations

import re
from io import StringIO

import pytest

from accounts.models import User
from tests.support.commits import call_command_committed

pytestmark = pytest.mark.django_db


def test_bench_engine_prints_figures_and_cleans_up() -> None:
    out = StringIO()

    call_command_committed("bench_engine", "--users", "3", stdout=out)

    text = out.getvalue()
    assert re.search(
        r"engine: 3 users in [\d.]+ s = [\d.]+ users/s \| per user p50 [\d.]+ ms, p95 [\d.]+ ms",
        text,
    )
    assert not User.objects.filter(email__startswith="bench-engine-").exists()
