"""A recompute writes only what changed: the rows it leaves are those a recompute from nothing
makes, but an identical pending recommendation keeps its id, and unchanged data writes nothing
and opens no transaction (reading in one round trip)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations import services
from recommendations.models import PersonaAssignment, Recommendation, SignalSnapshot
from recommendations.services import user_recompute
from recommendations.synthetic import synthetic_user
from spendsense import batch
from spendsense.fields import Serialised
from tests.support.clients import SignedIn, upload
from tests.support.insights import stored

pytestmark = pytest.mark.django_db

NOTHING = {
    "signal_snapshots": 0,
    "personas": 0,
    "recommendations_deleted": 0,
    "recommendations_inserted": 0,
}


def derived_rows(user: Any) -> tuple[Any, ...]:
    """Everything a recompute derives for the user, ids and times included."""
    return (
        sorted(Recommendation.objects.filter(user=user).values_list("pk", "created_at", "status")),
        stored(Recommendation.objects.filter(user=user)),
        sorted(
            (s.window, s.as_of, json.dumps(s.data, sort_keys=True), s.computed_at)
            for s in SignalSnapshot.objects.filter(user=user)
        ),
        sorted(PersonaAssignment.objects.filter(user=user).values_list("pk", "window", "persona")),
    )


def remade_from_nothing(user: Any) -> list[tuple[Any, ...]]:
    """The pending recommendations a recompute makes when none is stored."""
    Recommendation.objects.filter(user=user, status="pending").delete()
    user_recompute(user_id=user.id)
    return stored(Recommendation.objects.filter(user=user, status="pending"))


def test_unchanged_data_writes_nothing_in_one_round_trip(seeded: SignedIn) -> None:
    before = derived_rows(seeded.user)

    with CaptureQueriesContext(connection) as queries:
        result = user_recompute(user_id=seeded.user.id)

    assert result["written"] == NOTHING
    assert derived_rows(seeded.user) == before
    # What is stored (consent, snapshots, latest personas, recommendations' digests), then
    # accounts, transactions, liabilities, sent together where the database allows it: no
    # transaction, no lock, no write.
    sent = [q["sql"].strip() for q in queries.captured_queries]
    statements = [s.strip() for text in sent for s in text.split(";\n")]
    assert len(statements) == 4, statements
    assert all(s.startswith("SELECT") for s in statements)
    assert len(sent) == (1 if batch.one_round_trip() else 4)


def test_a_changed_item_alone_is_replaced(seeded: SignedIn) -> None:
    pending = list(Recommendation.objects.filter(user=seeded.user, status="pending"))
    changed, *same = pending
    Recommendation.objects.filter(pk=changed.pk).update(rationale="an older rationale", digest="x")

    result = user_recompute(user_id=seeded.user.id)

    assert result["written"] == {
        **NOTHING,
        "recommendations_deleted": 1,
        "recommendations_inserted": 1,
    }
    after = Recommendation.objects.filter(user=seeded.user, status="pending")
    kept = {r.pk for r in after}
    assert changed.pk not in kept
    assert {r.pk for r in same} <= kept
    assert len(kept) == len(pending)
    assert stored(after) == remade_from_nothing(seeded.user)


@pytest.mark.parametrize("touch", [{"revision": 1, "title": "Edited"}, {"flagged": True}])
def test_an_edited_or_flagged_pending_item_is_remade_as_new(
    seeded: SignedIn, touch: dict[str, Any]
) -> None:
    touched = Recommendation.objects.filter(user=seeded.user, status="pending").first()
    assert touched is not None
    Recommendation.objects.filter(pk=touched.pk).update(**touch)

    user_recompute(user_id=seeded.user.id)

    after = Recommendation.objects.filter(user=seeded.user, status="pending")
    assert touched.pk not in {r.pk for r in after}
    assert after.filter(slug=touched.slug, revision=0, flagged=False).count() == 1
    assert stored(after) == remade_from_nothing(seeded.user)


def test_new_data_rewrites_what_changed(seeded: SignedIn) -> None:
    body = synthetic_user(0, 5).body
    later = {**body["transactions"][-1], "transaction_id": "later-1", "date": "2026-11-05"}
    rec_ids = set(Recommendation.objects.filter(user=seeded.user).values_list("pk", flat=True))

    upload(seeded.client, json.dumps({"transactions": [later]}).encode())

    snapshots = SignalSnapshot.objects.filter(user=seeded.user)
    assert {s.as_of.isoformat() for s in snapshots} == {"2026-11-05"}
    pending = Recommendation.objects.filter(user=seeded.user, status="pending")
    # Every trace cites the new as_of: every pending item is new.
    assert rec_ids.isdisjoint({r.pk for r in pending})
    assert stored(pending) == remade_from_nothing(seeded.user)
    # The persona did not change: no history row.
    assert PersonaAssignment.objects.filter(user=seeded.user).count() == 2


def test_a_snapshot_changed_behind_the_engine_is_rewritten(seeded: SignedIn) -> None:
    SignalSnapshot.objects.filter(user=seeded.user, window="30d").update(data={"tampered": 1})

    result = user_recompute(user_id=seeded.user.id)

    assert result["written"] == {**NOTHING, "signal_snapshots": 1}
    assert "tampered" not in SignalSnapshot.objects.get(user=seeded.user, window="30d").data


def test_new_rows_are_written_in_three_round_trips(seeded: SignedIn) -> None:
    SignalSnapshot.objects.filter(user=seeded.user).delete()
    Recommendation.objects.filter(user=seeded.user, status="pending").delete()

    with CaptureQueriesContext(connection) as queries:
        result = user_recompute(user_id=seeded.user.id)

    assert result["written"] == {**NOTHING, "signal_snapshots": 2, "recommendations_inserted": 8}
    # Each round trip's statements by their first word, transaction control aside.
    sent = [
        [statement.split()[0] for statement in q["sql"].strip().split(";\n")]
        for q in queries.captured_queries
        if q["sql"].split()[0] not in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}
    ]
    # The read; the lock, commit without waiting for the WAL flush, and the read again; the
    # snapshots and recommendations (no persona changed); analytics' state row, the same as
    # before (so its bucket's tallies are not marked: operator_console.tallies).
    expected = [["SELECT"] * 4, ["SELECT", "SET", "SELECT"], ["INSERT", "INSERT"], ["INSERT"]]
    if batch.one_round_trip():
        assert sent == expected
    else:
        assert sent == [[s] for trip in expected for s in trip if s != "SET"]


def test_a_serialised_document_is_written_as_its_text(user: Any) -> None:
    """Recompute serialises the part its traces share once: the field writes the text."""
    document = Serialised({"a": 1}, '{"a": 2, "b": ["written"]}')
    row = Recommendation(user=user, type="education", slug="s", decision_trace=document)

    Recommendation.objects.bulk_create([row])

    assert Recommendation.objects.get(pk=row.pk).decision_trace == {"a": 2, "b": ["written"]}


@pytest.mark.parametrize(
    ("base", "own"),
    [
        ({"as_of": "2026-11-01", "signals": {"30d": {"x": [1, 2.5, None]}}}, {"window": "30d"}),
        ({"a": 1, "b": {"c": "d, e}"}}, {"b": 2, "é": '"quoted" {}'}),  # a key of both: own's
        ({}, {"a": 1}),
    ],
)
def test_a_trace_from_the_shared_text_is_the_merged_document(
    base: dict[str, Any], own: dict[str, Any]
) -> None:
    assert json.loads(services._merged(services._canonical(base), own)) == {**base, **own}
