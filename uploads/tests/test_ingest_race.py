"""Ingestions racing. Two of one user's first rows: the second waits for the first (the user's
ingestion lock) and merges into what it wrote, so each row is stored once and nothing fails
(without the lock both would copy their rows straight in and the second would hit the unique
key of the first's rows). Two runs of one upload's task (the stale sweep requeues an upload
still processing): the second, held by the first's lock on the upload, finds it processed and
leaves it as the first recorded it."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction

from consent.services import consent_grant
from tests.support.factories.accounts import UserFactory
from tests.support.plaid import account, body
from tests.support.plaid import transaction as plaid_transaction
from uploads import services
from uploads.models import Account, DataUpload, Transaction
from uploads.validation import parse_upload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _waiting_on_a_lock() -> bool:
    """Whether a backend of this database waits on a lock another holds (an advisory lock,
    a row's key)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND pid IN "
            "(SELECT pid FROM pg_stat_activity WHERE datname = current_database()))"
        )
        return bool(cursor.fetchone()[0])


def _until_one_waits_on_a_lock() -> None:
    for _ in range(2000):
        if _waiting_on_a_lock():
            return
        threading.Event().wait(0.01)
    pytest.fail("no ingestion ever waited on the other")


def test_a_second_run_of_an_upload_being_processed_leaves_what_the_first_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    user = UserFactory.create()
    consent_grant(user=user, version=None)
    monkeypatch.setattr(services, "_enqueue", lambda upload_id: None)
    content = body(
        accounts=[account("acc-1")],
        transactions=[plaid_transaction("tx-1"), plaid_transaction("tx-2")],
    )
    upload_id = services.upload_create(
        user=user, file_name="t.json", content=content, idempotency_key=None
    ).upload.id
    held, go = threading.Event(), threading.Event()
    real_ingest = services._ingest

    def ingest(*args: Any) -> Any:
        """The first run held once it has ingested, its transaction open."""
        counts = real_ingest(*args)
        if threading.current_thread().name == "first":
            held.set()
            assert go.wait(20)
        return counts

    monkeypatch.setattr(services, "_ingest", ingest)
    outcomes: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            outcomes[name] = services.upload_process(upload_id=upload_id)
        except Exception as error:  # reported by the assertions
            outcomes[name] = error
        finally:
            connections.close_all()

    threads = {
        name: threading.Thread(target=run, args=(name,), name=name) for name in ("first", "second")
    }
    threads["first"].start()
    assert held.wait(20)
    threads["second"].start()
    _until_one_waits_on_a_lock()  # the second, on the upload the first holds
    go.set()
    for thread in threads.values():
        thread.join(30)

    assert not isinstance(outcomes["second"], Exception), outcomes["second"]
    upload = DataUpload.objects.get(pk=upload_id)
    assert (upload.status, upload.attempts) == ("processed", 1)
    assert upload.counts["transactions"] == {"created": 2, "updated": 0, "removed": 0}


def test_two_first_ingestions_of_one_user_racing_store_each_row_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    user = UserFactory.create()
    first = parse_upload(
        body(
            accounts=[account("acc-1")],
            transactions=[plaid_transaction("tx-1"), plaid_transaction("tx-2")],
        ),
        known_account_ids=set(),
    )
    second = parse_upload(
        body(
            accounts=[account("acc-1")],
            transactions=[plaid_transaction("tx-2", amount=5), plaid_transaction("tx-3")],
        ),
        known_account_ids=set(),
    )
    held, go = threading.Event(), threading.Event()
    real_upsert = services._upsert

    def upsert(model: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
        """The first ingestion held once its transactions are written, not committed."""
        written = real_upsert(model, *args, **kwargs)
        if model is Transaction and threading.current_thread().name == "first":
            held.set()
            assert go.wait(20)
        return written

    monkeypatch.setattr(services, "_upsert", upsert)
    outcomes: dict[str, Any] = {}

    def ingest(name: str, parsed: Any) -> None:
        try:
            with transaction.atomic():
                outcomes[name] = services._ingest(user, parsed)
        except Exception as error:  # reported by the assertions
            outcomes[name] = error
        finally:
            connections.close_all()

    threads = {
        name: threading.Thread(target=ingest, args=(name, parsed), name=name)
        for name, parsed in (("first", first), ("second", second))
    }
    threads["first"].start()
    assert held.wait(20)
    threads["second"].start()
    _until_one_waits_on_a_lock()  # the second, on the first's
    go.set()
    for thread in threads.values():
        thread.join(30)

    assert not isinstance(outcomes["second"], Exception), outcomes["second"]
    assert outcomes["second"]["transactions"] == {"created": 1, "updated": 1, "removed": 0}
    assert outcomes["second"]["accounts"] == {"created": 0, "updated": 0, "removed": 0}
    assert sorted(
        Transaction.objects.filter(user=user).values_list("transaction_id", "amount")
    ) == [("tx-1", Decimal("12.5000")), ("tx-2", Decimal("5.0000")), ("tx-3", Decimal("12.5000"))]
    assert Account.objects.filter(user=user).count() == 1
