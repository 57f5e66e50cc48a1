"""spendsense.batch: several statements in one round trip on PostgreSQL (one by one
elsewhere), with the rows the ORM would read and write; a statement after a row lock sees
what the lock waited for."""

from __future__ import annotations

import sys
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from recommendations.models import PersonaAssignment, Recommendation, SignalSnapshot
from spendsense import batch
from tests.support.clients import SignedIn
from tests.support.commits import paused_after
from tests.support.factories.accounts import UserFactory
from uploads.models import Account, Liability, Transaction

pytestmark = pytest.mark.django_db


def names(user_id: Any) -> batch.Statement:
    return batch.select(User.objects.filter(pk=user_id).values_list("username"))


def test_statements_go_together_and_each_answers(user: User) -> None:
    rename = User.objects.filter(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        before, renamed, after = batch.run(
            [
                names(user.pk),
                batch.Statement(
                    "UPDATE accounts_user SET username = %s WHERE id = %s",
                    ["Ada", User._meta.pk.get_db_prep_value(user.pk, connection)],
                ),
                names(user.pk),
            ]
        )

    assert (before, renamed, after) == ([(user.username,)], [], [("Ada",)])
    assert rename.get().username == "Ada"
    assert len(queries.captured_queries) == (1 if batch.one_round_trip() else 3)


def test_nothing_to_run_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert batch.run([]) == []
    assert queries.captured_queries == []


def test_an_error_stops_the_rest_and_rolls_the_transaction_back(user: User) -> None:
    key = User._meta.pk.get_db_prep_value(user.pk, connection)
    with pytest.raises(DatabaseError), transaction.atomic():
        batch.run(
            [
                batch.Statement("UPDATE accounts_user SET username = 'Ada' WHERE id = %s", [key]),
                batch.Statement("SELECT * FROM no_such_table"),
            ]
        )

    user.refresh_from_db()
    assert user.username != "Ada"


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Account, ["account_id", "current", "limit", "iso_currency_code"]),
        (Transaction, ["transaction_id", "date", "amount", "pending", "pfc_primary"]),
        (Liability, ["account_id", "kind", "minimum_payment_amount", "details", "is_overdue"]),
    ],
)
def test_selected_rows_are_the_querysets_own(
    seeded: SignedIn, model: type[Any], fields: list[str]
) -> None:
    queryset = model.objects.filter(user=seeded.user).values_list(*fields).order_by(*fields[:1])

    (rows,) = batch.run([batch.select(queryset)])

    assert rows == list(queryset)
    assert rows  # archetype 0 has accounts, transactions and a card's liability


def test_a_per_key_select_is_the_select_of_its_key(seeded: SignedIn, user: User) -> None:
    def build(user_id: Any) -> Any:
        return Transaction.objects.filter(user_id=user_id).values_list("date", "amount")

    per_user = batch.PerKey(build, User._meta.pk)

    for person in (seeded.user, user, seeded.user):
        statement = per_user(person.pk)
        assert statement[:2] == batch.select(build(person.pk))[:2]
        assert batch.run([statement]) == [list(build(person.pk))]
    assert isinstance(batch.run([per_user(seeded.user.pk)])[0][0][1], Decimal)


def test_a_per_key_select_must_use_its_key() -> None:
    per_nobody = batch.PerKey(lambda _: User.objects.values_list("pk"), User._meta.pk)

    with pytest.raises(ValueError, match="does not use its key"):
        per_nobody("anyone")


def stored(model: type[Any], user: User, *fields: str) -> list[tuple[Any, ...]]:
    return sorted(model.objects.filter(user=user).values_list(*fields))


def derived_rows(user: User) -> tuple[list[Any], list[Any], list[Any]]:
    trace = {"inputs": {"currency": "USD"}, "quote": 'it\'s "quoted" \\ 100%'}
    return (
        [
            SignalSnapshot(
                user=user, window=w, as_of=date(2026, 11, 1), data={"w": w, **trace}, inputs={}
            )
            for w in ("30d", "180d")
        ],
        [
            PersonaAssignment(
                user=user, window="30d", persona=None, matched=[], evaluations=[trace],
                as_of=date(2026, 11, 1),
            )
        ],
        [
            Recommendation(
                user=user, type="education", slug=f"item-{n}", title="T", content="C %s",
                rationale="R", disclaimer="D", window="30d", score=n, decision_trace=trace,
                digest=f"{n}",
            )
            for n in range(3)
        ],
    )  # fmt: skip


SNAPSHOT = ("window", "as_of", "data", "inputs")
PERSONA = ("window", "persona", "matched", "evaluations", "reason", "as_of")
RECOMMENDATION = ("slug", "type", "title", "content", "status", "decision_trace", "score")


def test_inserted_rows_are_what_bulk_create_writes() -> None:
    ours, theirs = UserFactory.create(), UserFactory.create()
    snapshots, personas, recommendations = derived_rows(theirs)
    SignalSnapshot.objects.bulk_create(snapshots)
    PersonaAssignment.objects.bulk_create(personas)
    Recommendation.objects.bulk_create(recommendations)

    snapshots, personas, recommendations = derived_rows(ours)
    with CaptureQueriesContext(connection) as queries:
        batch.run(
            [*batch.insert(snapshots), *batch.insert(personas), *batch.insert(recommendations)]
        )

    for model, fields in (
        (SignalSnapshot, SNAPSHOT),
        (PersonaAssignment, PERSONA),
        (Recommendation, RECOMMENDATION),
    ):
        assert stored(model, ours, *fields) == stored(model, theirs, *fields)
    assert len(queries.captured_queries) == (1 if batch.one_round_trip() else 3)


def test_an_insert_with_update_fields_updates_the_row_it_meets(user: User) -> None:
    (first, _), _, _ = derived_rows(user)
    batch.run(batch.insert([first]))
    again = SignalSnapshot(user=user, window="30d", as_of=date(2026, 11, 2), data={"new": 1})

    batch.run(
        batch.insert([again], unique_fields=["user", "window"], update_fields=["as_of", "data"])
    )

    assert stored(SignalSnapshot, user, "window", "as_of", "data") == [
        ("30d", date(2026, 11, 2), {"new": 1})
    ]


def test_insert_takes_one_model_with_or_without_keys(user: User) -> None:
    snapshots, personas, recommendations = derived_rows(user)
    with pytest.raises(ValueError, match="one model"):
        batch.insert([*snapshots, *personas])
    recommendations[0].pk = None
    with pytest.raises(ValueError, match="one model"):
        batch.insert(recommendations)
    with pytest.raises(ValueError, match="unique_fields"):
        batch.insert(snapshots, update_fields=["data"])


def renamed() -> None:
    """The racing transaction has renamed the user and holds their row (held here)."""


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_after_a_lock_sees_what_the_lock_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a recompute relies on when it locks the user and reads what is stored again in
    one round trip: the read is not of the moment the round trip started."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    user = UserFactory.create(username="Before")
    locked = User.objects.select_for_update().filter(pk=user.pk).values_list("pk")
    read: list[Any] = []

    def rename() -> None:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).update(username="After")
            sys.modules[__name__].renamed()

    def lock_and_read() -> None:
        try:
            with transaction.atomic():
                read.extend(batch.run([batch.select(locked), names(user.pk)]))
        finally:
            connections.close_all()

    with paused_after(monkeypatch, sys.modules[__name__], "renamed", rename) as renaming:
        reader = threading.Thread(target=lock_and_read)
        reader.start()
        deadline = time.monotonic() + 20
        while not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waiting_for_a_lock()  # the reader waits for the renaming transaction
    reader.join()

    assert renaming.error is None
    assert read == [[(user.pk,)], [("After",)]]
