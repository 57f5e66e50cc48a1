"""bench_engine runs end to end (recompute runs in operator_console/tests/test_seed_demo.py)."""

from __future__ import annotations

import re
from io import StringIO

import pytest

from accounts.models import User
from spendsense import batch
from tests.support.commits import call_command_committed

pytestmark = pytest.mark.django_db

PARTS = ("load", "compute", "write")


def test_bench_engine_prints_figures_and_cleans_up() -> None:
    out = StringIO()

    call_command_committed("bench_engine", "--users", "3", stdout=out)

    text = out.getvalue()
    engine = (
        r"engine: 3 users in [\d.]+ s = [\d.]+ users/s \| per user p50 [\d.]+ ms, p95 [\d.]+ ms"
    )
    parts = "".join(rf"\n  {part}: p50 [\d.]+ ms, p95 [\d.]+ ms, mean [\d.]+ ms" for part in PARTS)
    assert re.search(
        rf"first recompute .*:\n{engine}{parts}\nrecompute again .*:\n{engine}{parts}", text
    )
    # A first recompute writes every row; again, on unchanged data, it only reads (four
    # statements, sent together where the database allows it).
    first, again = map(float, re.findall(r"first ([\d.]+), again ([\d.]+)", text)[0])
    assert first > again == (1 if batch.one_round_trip() else 4)
    assert not User.objects.filter(email__startswith="bench-engine-").exists()
