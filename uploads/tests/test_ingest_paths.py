"""Ingestion's two paths store the same rows and count the same: COPY into a temporary table
and one ``INSERT … ON CONFLICT`` per table on PostgreSQL (``spendsense.pgcopy``), the ORM's
``bulk_create`` elsewhere (forced here with ``_use_copy``). The COPY path's own tests need
PostgreSQL and say so when skipped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError, connection
from django.db.models import Model
from django.db.models.expressions import RawSQL
from django.db.transaction import TransactionManagementError, atomic

from accounts.models import User
from spendsense import pgcopy
from tests.support.clients import sign_in, upload
from tests.support.commits import concurrently
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from tests.support.plaid import EXAMPLES, account, body, example, example_bytes, transaction
from uploads import services
from uploads.models import Account, CategorySource, DataUpload, Liability, Transaction

pytestmark = pytest.mark.django_db

PATHS = ["copy", "orm"]
TABLES: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "accounts": (Account, ("account_id",)),
    "transactions": (Transaction, ("transaction_id",)),
    "liabilities": (Liability, ("kind", "account_id")),
}
HOSTILE = [
    "tab\there",
    "new\nline",
    "carriage\rreturn\r\n",
    "back\\slash",
    "end backslash\\",
    "\\N",  # COPY's NULL marker, as text
    "\\.",  # COPY's end-of-data marker, as text
    "\\t not a tab",
    "quotes \"double\" and 'single'",
    "comma, semicolon; pipe | brace {} [array]",
    "Café Zürich \u2013 ñ ß ø 東京",
    "emoji 🍕🚀 👩‍👩‍👧",
    "  padded  ",
    '{"json": "lookalike"}',
]


def use_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    if path == "copy" and connection.vendor != "postgresql":
        pytest.skip("the COPY path needs PostgreSQL (set DATABASE_URL)")
    monkeypatch.setattr(services, "_use_copy", lambda: path == "copy")


def stored(user: User) -> dict[str, list[dict[str, Any]]]:
    """Every column of every row the user's uploads wrote (but the serial id, the owner and
    the time of the write), in key order."""
    rows = {}
    for name, (model, key) in TABLES.items():
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in ("id", "user_id", "updated_at")
        ]
        rows[name] = list(model._default_manager.filter(user=user).order_by(*key).values(*columns))
    return rows


def ingest(files: list[tuple[bytes, str]]) -> tuple[User, list[dict[str, Any]]]:
    """A new consented user uploads ``files`` in turn; each is processed (eager Celery)."""
    person = sign_in(grant_consent(UserFactory.create()))
    counts = []
    for content, name in files:
        response = upload(person.client, content, name)
        assert response.status_code == 202, response.json()
        processed = DataUpload.objects.get(pk=response.json()["upload_id"])
        assert processed.status == "processed", processed.error
        counts.append(processed.counts)
    return person.user, counts


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


TX_HEADER = [
    "account_id",
    "transaction_id",
    "date",
    "amount",
    "iso_currency_code",
    "name",
    "merchant_name",
    "payment_channel",
    "pending",
    "personal_finance_category.primary",
    "personal_finance_category.detailed",
]


def tally(created: int = 0, updated: int = 0, removed: int = 0) -> dict[str, int]:
    return {"created": created, "updated": updated, "removed": removed}


def counts_of(
    accounts: dict[str, int] | None = None,
    transactions: dict[str, int] | None = None,
    liabilities: dict[str, int] | None = None,
    without_account: int = 0,
) -> dict[str, dict[str, int]]:
    return {
        "accounts": accounts or tally(),
        "transactions": transactions or tally(),
        "liabilities": {**(liabilities or tally()), "without_account": without_account},
    }


def changed_liabilities() -> dict[str, Any]:
    """Plaid's liabilities example with a figure, a flag, an APR and a name changed."""
    data = example("liabilities_get")
    credit = data["liabilities"]["credit"][0]
    credit["is_overdue"] = True
    credit["aprs"][0]["apr_percentage"] = 16.5  # only in ``details``
    student = data["liabilities"]["student"][0]
    student["last_payment_amount"] = 140
    student["loan_name"] = HOSTILE[0] + HOSTILE[3] + HOSTILE[11]
    return data


def hostile_transactions() -> list[dict[str, Any]]:
    return [
        transaction(f"h{n}", name=f"NAME {text}", merchant_name=text)
        for n, text in enumerate(HOSTILE)
    ]


SCENARIOS: dict[str, tuple[list[tuple[bytes, str]], list[dict[str, Any]]]] = {
    "plaid examples, each twice": (
        [(example_bytes(name), f"{name}.json") for name in EXAMPLES for _ in range(2)],
        [
            counts_of(accounts=tally(3)),
            counts_of(),
            counts_of(accounts=tally(1), transactions=tally(2)),
            counts_of(),
            counts_of(),  # the same account and transactions; a removed id never seen
            counts_of(),
            counts_of(accounts=tally(3, 1), liabilities=tally(3)),
            counts_of(),
        ],
    ),
    "rows changing": (
        [
            (
                body(
                    accounts=[account("acc-1"), account("acc-2", name="Second")],
                    transactions=[
                        transaction("a", amount=10),
                        transaction("b", authorized_date=None),
                        transaction("c", pending=True),
                        transaction("d", merchant_name="Old name"),
                        transaction("e"),
                        transaction("f", amount=12.5),
                    ],
                ),
                "first.json",
            ),
            (
                body(
                    accounts=[
                        account("acc-1"),
                        {
                            **account("acc-2", name="Second"),
                            "balances": {
                                **account("acc-2")["balances"],
                                "available": None,
                                "current": 7,
                            },
                        },
                    ],
                    transactions=[
                        transaction("a", amount=10.5),
                        transaction("b", authorized_date="2026-09-30"),
                        transaction("c", pending=False),
                        transaction("d", merchant_name="New name"),
                        transaction("e"),
                        transaction("f", amount=12.5),
                        transaction("g"),
                    ],
                ),
                "second.json",
            ),
            (json.dumps(example("liabilities_get")).encode(), "liabilities.json"),
            (json.dumps(changed_liabilities()).encode(), "liabilities-changed.json"),
            (
                body(modified=[transaction("e", amount=1)], removed=[{"transaction_id": "a"}]),
                "sync.json",
            ),
        ],
        [
            counts_of(accounts=tally(2), transactions=tally(6)),
            counts_of(accounts=tally(0, 1), transactions=tally(1, 4)),
            counts_of(accounts=tally(4), liabilities=tally(3)),
            counts_of(liabilities=tally(0, 2)),
            counts_of(transactions=tally(0, 1, 1)),
        ],
    ),
    "hostile text, in JSON and in CSV": (
        [
            (body(accounts=[account()], transactions=hostile_transactions()), "hostile.json"),
            (
                csv_bytes(
                    TX_HEADER,
                    [
                        [
                            "acc-1",
                            f"csv{n}",
                            "2026-10-02",
                            "3.25",
                            "USD",
                            f"N {text}",
                            text,
                            "online",
                            "false",
                            "FOOD_AND_DRINK",
                            text,
                        ]
                        for n, text in enumerate(HOSTILE)
                    ],
                ),
                "hostile.csv",
            ),
            (body(accounts=[account()], transactions=hostile_transactions()), "again.json"),
        ],
        [
            counts_of(accounts=tally(1), transactions=tally(len(HOSTILE))),
            counts_of(transactions=tally(len(HOSTILE))),
            counts_of(),
        ],
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_both_paths_store_the_same_rows_and_count_the_same(
    monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    files, expected_counts = SCENARIOS[scenario]
    use_path(monkeypatch, "orm")
    orm_user, orm_counts = ingest(files)
    use_path(monkeypatch, "copy")
    copy_user, copy_counts = ingest(files)

    assert orm_counts == expected_counts
    assert copy_counts == expected_counts
    orm_rows, copy_rows = stored(orm_user), stored(copy_user)
    assert copy_rows == orm_rows
    assert sum(len(rows) for rows in copy_rows.values()) > 0


@pytest.mark.parametrize("path", PATHS)
def test_hostile_text_is_stored_exactly_as_sent(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    files, _ = SCENARIOS["hostile text, in JSON and in CSV"]
    user, _ = ingest(files[:2])
    nul = body(transactions=[transaction("nul", merchant_name="a\u0000b", name="\u0000c")])
    ingest_more(user, nul)

    merchants = dict(
        Transaction.objects.filter(user=user).values_list("transaction_id", "merchant_name")
    )
    for n, text in enumerate(HOSTILE):
        assert merchants[f"h{n}"] == text
        assert merchants[f"csv{n}"] == text.strip()  # a CSV cell is stripped as it is read
    assert merchants["nul"] == "ab"  # U+0000 is removed by validation (docs/decisions.md)
    assert Transaction.objects.get(user=user, transaction_id="nul").name == "c"


def ingest_more(user: User, content: bytes) -> dict[str, Any]:
    response = upload(sign_in(user).client, content)
    assert response.status_code == 202, response.json()
    processed = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert processed.status == "processed", processed.error
    return processed.counts


@pytest.mark.parametrize("path", PATHS)
def test_hostile_text_in_a_json_column(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    user, _ = ingest([(json.dumps(changed_liabilities()).encode(), "l.json")])

    student = Liability.objects.get(user=user, kind="student")
    assert student.details["loan_name"] == HOSTILE[0] + HOSTILE[3] + HOSTILE[11]
    assert student.last_payment_amount == Decimal("140.0000")
    credit = Liability.objects.get(user=user, kind="credit")
    assert credit.is_overdue is True
    assert credit.details["aprs"][0]["apr_percentage"] == "16.5000"


@pytest.mark.parametrize("path", PATHS)
def test_a_re_upload_writes_no_row(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    data = json.dumps(
        {
            **example("liabilities_get"),
            "transactions": example("transactions_get")["transactions"],
        }
    ).encode()
    user, _ = ingest([(data, "all.json")])
    before = versions(user)

    counts = ingest_more(user, data)

    assert counts == counts_of()
    assert versions(user) == before


def versions(user: User) -> dict[str, list[tuple[Any, ...]]]:
    """Each row's ``updated_at``, and on PostgreSQL its ``xmin`` (the transaction that wrote
    its current version: unchanged unless the row was written)."""
    written = RawSQL("xmin::text", ()) if connection.vendor == "postgresql" else RawSQL("''", ())
    return {
        name: list(
            model._default_manager.filter(user=user)
            .annotate(written=written)
            .order_by("pk")
            .values_list("pk", "updated_at", "written")
        )
        for name, (model, _key) in TABLES.items()
    }


@pytest.mark.parametrize("path", PATHS)
def test_only_changed_rows_are_written(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    first = body(accounts=[account()], transactions=[transaction(f"t{n}") for n in range(5)])
    user, _ = ingest([(first, "first.json")])
    before = dict(Transaction.objects.filter(user=user).values_list("transaction_id", "updated_at"))

    counts = ingest_more(
        user,
        body(
            transactions=[
                transaction("t1", amount=99),
                transaction("t3", name="Other"),
                transaction("t9"),
            ]
        ),
    )

    assert counts["transactions"] == tally(1, 2)
    after = dict(Transaction.objects.filter(user=user).values_list("transaction_id", "updated_at"))
    assert {key for key in before if after[key] != before[key]} == {"t1", "t3"}
    assert after["t1"] > before["t1"]
    assert Transaction.objects.get(user=user, transaction_id="t1").amount == Decimal("99.0000")


@pytest.mark.parametrize("path", PATHS)
def test_a_failure_mid_ingest_leaves_no_row(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    data = json.dumps(
        {
            **example("liabilities_get"),
            "transactions": [
                transaction(f"t{n}", account_id="BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp")
                for n in range(20)
            ],
        }
    ).encode()
    real_upsert = services._upsert

    def fails_at_liabilities(model: Any, *args: Any, **kwargs: Any) -> Any:
        if model is Liability:
            raise DataError("refused")  # after accounts and transactions were written
        return real_upsert(model, *args, **kwargs)

    monkeypatch.setattr(services, "_upsert", fails_at_liabilities)
    person = sign_in(grant_consent(UserFactory.create()))
    response = upload(person.client, data)

    stored_upload = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert stored_upload.status == "failed"
    assert stored_upload.error.startswith("invalid_content")
    assert stored(person.user) == {"accounts": [], "transactions": [], "liabilities": []}

    monkeypatch.setattr(services, "_upsert", real_upsert)
    assert ingest_more(person.user, data)["transactions"] == tally(20)


# --- the COPY helper itself (PostgreSQL) ---------------------------------------------------


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL (set DATABASE_URL)")


TX_FIELDS = ("user", "transaction_id", "account_id", "date", "amount", "name")


def tx_rows(user: User, *rows: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return [(user.pk, *row) for row in rows]


@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_counts_created_updated_and_leaves_equal_rows(user: User) -> None:
    def write(*rows: tuple[Any, ...]) -> pgcopy.Written:
        with atomic():
            return pgcopy.copy_upsert(
                Transaction,
                TX_FIELDS,
                tx_rows(user, *rows),
                unique_fields=("user", "transaction_id"),
                update_fields=("account_id", "date", "amount", "name"),
            )

    assert write(
        ("a", "acc", "2026-01-01", Decimal("1.5"), "x"), ("b", "acc", "2026-01-02", 2, "y")
    ) == (2, 0)
    # 1.5 and 1.50000 are one number; "y" → "z" is a change; "c" is new.
    assert write(
        ("a", "acc", "2026-01-01", Decimal("1.50000"), "x"),
        ("b", "acc", "2026-01-02", 2, "z"),
        ("c", "acc", "2026-01-03", Decimal("-0.0001"), ""),
    ) == (1, 1)
    stored_rows = list(
        Transaction.objects.filter(user=user)
        .order_by("transaction_id")
        .values_list("transaction_id", "amount", "name", "pending", "category_source")
    )
    # Fields not given take the model's defaults, as Model(...) would give them.
    assert stored_rows == [
        ("a", Decimal("1.5000"), "x", False, "pfc"),
        ("b", Decimal("2.0000"), "z", False, "pfc"),
        ("c", Decimal("-0.0001"), "", False, "pfc"),
    ]


@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_fills_defaults_and_stamps_like_the_orm(user: User) -> None:
    fields = ("user", "file_name", "file_size", "sha256", "status", "file_format", "validation")
    values = (user.pk, "a\tb.json", 3, "0" * 64, "queued", "json", {"errors": ["\\n\n"], "n": None})
    orm = DataUpload.objects.create(**dict(zip(fields[1:], values[1:], strict=True)), user=user)

    with atomic():
        written = pgcopy.copy_upsert(DataUpload, fields, [values, values])

    assert written == (2, 0)
    copied: list[dict[str, Any]] = [
        dict(row) for row in DataUpload.objects.exclude(pk=orm.pk).values()
    ]
    assert len({row.pop("id") for row in copied}) == 2  # a uuid4 per row
    expected: dict[str, Any] = dict(DataUpload.objects.filter(pk=orm.pk).values().get())
    del expected["id"]
    made_at: datetime = expected.pop("created_at")
    for row in copied:
        assert row.pop("created_at") > made_at  # stamped at the call, as auto_now_add does
        assert row == expected


@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_takes_enums_dates_nulls_and_booleans(user: User) -> None:
    fields = (*TX_FIELDS, "authorized_date", "pending", "category_source", "pfc_primary")
    row = ("a", "acc", date(2026, 2, 3), Decimal("-7.25"), "x", None, True)

    with atomic():
        pgcopy.copy_upsert(Transaction, fields, tx_rows(user, (*row, CategorySource.LEGACY, "\\N")))

    stored_row = Transaction.objects.values_list(
        "date", "authorized_date", "pending", "category_source", "pfc_primary"
    ).get()
    assert stored_row == (date(2026, 2, 3), None, True, "legacy", "\\N")


@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_refuses_nul_as_django_s_data_error(user: User) -> None:
    with pytest.raises(DataError), atomic():
        pgcopy.copy_upsert(
            Transaction, TX_FIELDS, tx_rows(user, ("a", "acc", "2026-01-01", 1, "x\x00y"))
        )

    assert not Transaction.objects.exists()
    with atomic():  # the temporary table went with the failed transaction
        assert pgcopy.copy_upsert(
            Transaction, TX_FIELDS, tx_rows(user, ("a", "acc", "2026-01-01", 1, "x"))
        ) == (1, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_needs_a_transaction(user: User) -> None:
    with pytest.raises(TransactionManagementError):
        pgcopy.copy_upsert(
            Transaction, TX_FIELDS, tx_rows(user, ("a", "acc", "2026-01-01", 1, "x"))
        )


@pytest.mark.usefixtures("postgresql")
def test_copy_upsert_without_update_fields_keeps_existing_rows(user: User) -> None:
    key = ("user", "transaction_id")
    with atomic():
        pgcopy.copy_upsert(
            Transaction,
            TX_FIELDS,
            tx_rows(user, ("a", "acc", "2026-01-01", 1, "x")),
            unique_fields=key,
        )
        written = pgcopy.copy_upsert(
            Transaction,
            TX_FIELDS,
            tx_rows(user, ("a", "acc", "2026-01-01", 5, "y"), ("b", "acc", "2026-01-01", 2, "z")),
            unique_fields=key,
        )

    assert written == (1, 0)
    assert Transaction.objects.get(transaction_id="a").name == "x"


def test_copy_upsert_says_it_needs_postgresql() -> None:
    assert pgcopy.available() is (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":
        return
    with pytest.raises(NotImplementedError), atomic():
        pgcopy.copy_upsert(Transaction, TX_FIELDS, [])


# --- racing uploads (PostgreSQL) -----------------------------------------------------------


@pytest.fixture
def queued() -> Iterator[Any]:
    """Uploads made without their processing task, to be processed by the test."""
    from unittest import mock

    with mock.patch("uploads.services._enqueue"):
        yield


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("postgresql", "queued")
def test_two_uploads_of_one_user_at_once_write_one_file_whole() -> None:
    """The same rows in opposite orders with other values, processed at the same moment:
    no deadlock (rows are merged in key order), one file's values in every row, and the
    counts say exactly what each did."""
    user = grant_consent(UserFactory.create())
    services.upload_create(
        user=user, file_name="a.json", content=body(accounts=[account()]), idempotency_key=None
    )
    DataUpload.objects.update(status="processed")
    rows = [transaction(f"t{n:04d}", amount=n) for n in range(3000)]
    other = [transaction(row["transaction_id"], amount=row["amount"] + 1) for row in reversed(rows)]
    ids = [
        services.upload_create(
            user=user, file_name=name, content=body(transactions=data), idempotency_key=None
        ).upload.pk
        for name, data in (("one.json", rows), ("two.json", other))
    ]
    pending = list(ids)

    def process() -> dict[str, Any]:
        processed = services.upload_process(upload_id=pending.pop())
        assert processed is not None
        return processed.counts

    results = concurrently(2, process)

    assert sorted(result["transactions"]["created"] for result in results) == [0, 3000]
    assert sorted(result["transactions"]["updated"] for result in results) == [0, 3000]
    amounts = {
        amount - int(tid[1:])
        for tid, amount in Transaction.objects.filter(user=user).values_list(
            "transaction_id", "amount"
        )
    }
    assert len(amounts) == 1  # every row from one file
    assert Transaction.objects.filter(user=user).count() == 3000
    assert DataUpload.objects.filter(pk__in=ids, status="processed").count() == 2
