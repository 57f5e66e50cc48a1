"""The validator alone: every rule, every locator, hostile input. No database."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.support.plaid import EXAMPLES, account, body, example, example_bytes, transaction
from uploads.validation import UploadRejected, detect_format, parse_upload, read_validated


def reject(content: bytes, known: set[str] | None = None, **kwargs: Any) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        parse_upload(content, known_account_ids=known or set(), **kwargs)
    return caught.value


def codes(rejected: UploadRejected) -> list[tuple[str | None, str]]:
    return [(error.attr, error.code) for error in rejected.errors]


@pytest.mark.parametrize("name", EXAMPLES)
def test_plaid_examples_validate_as_they_are(name: str) -> None:
    parsed = parse_upload(example_bytes(name), known_account_ids=set())

    data = example(name)
    assert len(parsed.accounts) == len(data["accounts"])
    assert parsed.file_format == "json"


def test_amount_sign_and_precision_are_kept() -> None:
    parsed = parse_upload(
        body(
            accounts=[account()],
            transactions=[transaction(amount=-1500.1234), transaction("tx-2", amount=23631.9805)],
        ),
        known_account_ids=set(),
    )

    assert [t["amount"] for t in parsed.transactions] == [
        Decimal("-1500.1234"),
        Decimal("23631.9805"),
    ]


def test_liabilities_by_kind() -> None:
    parsed = parse_upload(example_bytes("liabilities_get"), known_account_ids=set())

    by_kind = {liability["kind"]: liability for liability in parsed.liabilities}
    assert by_kind["credit"]["interest_rate_percentage"] == Decimal("12.5")
    assert by_kind["credit"]["minimum_payment_amount"] == Decimal("20")
    assert len(by_kind["credit"]["details"]["aprs"]) == 4
    assert by_kind["mortgage"]["interest_rate_percentage"] == Decimal("3.99")
    assert by_kind["mortgage"]["is_overdue"] is True  # past_due_amount 2304
    assert by_kind["student"]["interest_rate_percentage"] == Decimal("5.25")
    assert by_kind["student"]["details"]["loan_status"] == "repayment"


ACCOUNT_RULES = [
    ({"account_id": None}, "accounts.0.account_id", "required"),
    ({"account_id": 7}, "accounts.0.account_id", "invalid"),
    ({"type": "savings"}, "accounts.0.type", "invalid_choice"),
    ({"type": None}, "accounts.0.type", "required"),
    ({"subtype": "credit card"}, "accounts.0.subtype", "invalid_choice"),
    ({"balances": None}, "accounts.0.balances", "required"),
    ({"balances": "100"}, "accounts.0.balances", "invalid"),
    (
        {"balances": {"current": "110", "iso_currency_code": "USD"}},
        "accounts.0.balances.current",
        "invalid",
    ),
    (
        {"balances": {"current": True, "iso_currency_code": "USD"}},
        "accounts.0.balances.current",
        "invalid",
    ),
    (
        {"balances": {"limit": 1e20, "iso_currency_code": "USD"}},
        "accounts.0.balances.limit",
        "out_of_range",
    ),
    ({"balances": {"current": 1}}, "accounts.0.balances.iso_currency_code", "required"),
    (
        {"balances": {"current": 1, "iso_currency_code": "usd"}},
        "accounts.0.balances.iso_currency_code",
        "invalid",
    ),
    ({"account_id": "x" * 256}, "accounts.0.account_id", "max_length"),
    ({"name": "\ud800"}, "accounts.0.name", "invalid"),
]


@pytest.mark.parametrize(("change", "attr", "code"), ACCOUNT_RULES)
def test_account_rules(change: dict, attr: str, code: str) -> None:
    rejected = reject(body(accounts=[account(**change)]))

    assert (attr, code) in codes(rejected)


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": None},
        {"subtype": "payroll"},  # allowed for any type
        {"type": "credit", "subtype": "charge card"},  # a newer subtype
        {
            "balances": {
                "current": None,
                "available": None,
                "limit": None,
                "iso_currency_code": None,
                "unofficial_currency_code": "BTC",
            }
        },
        {"unknown_field": {"deep": [1, 2]}},
    ],
)
def test_accounts_that_are_fine(change: dict) -> None:
    parsed = parse_upload(body(accounts=[account(**change)]), known_account_ids=set())

    assert len(parsed.accounts) == 1


TRANSACTION_RULES = [
    ({"transaction_id": ""}, "transactions.0.transaction_id", "required"),
    ({"account_id": "nowhere"}, "transactions.0.account_id", "unknown_account"),
    ({"date": "2026-13-01"}, "transactions.0.date", "invalid"),
    ({"date": "01/10/2026"}, "transactions.0.date", "invalid"),
    ({"date": "20261001"}, "transactions.0.date", "invalid"),
    ({"date": None}, "transactions.0.date", "required"),
    ({"authorized_date": "yesterday"}, "transactions.0.authorized_date", "invalid"),
    ({"amount": "12.50"}, "transactions.0.amount", "invalid"),
    ({"amount": None}, "transactions.0.amount", "required"),
    ({"payment_channel": "telepathy"}, "transactions.0.payment_channel", "invalid_choice"),
    ({"pending": "no"}, "transactions.0.pending", "invalid"),
    (
        {"personal_finance_category": "FOOD"},
        "transactions.0.personal_finance_category",
        "invalid",
    ),
    (
        {"personal_finance_category": {"primary": 5, "detailed": "X"}},
        "transactions.0.personal_finance_category.primary",
        "invalid",
    ),
    (
        {"personal_finance_category": None, "category": "Shops"},
        "transactions.0.category",
        "invalid",
    ),
    ({"transaction_id": "\u0000"}, "transactions.0.transaction_id", "required"),
    (
        {"iso_currency_code": None, "unofficial_currency_code": None},
        "transactions.0.iso_currency_code",
        "required",
    ),
]


@pytest.mark.parametrize(("change", "attr", "code"), TRANSACTION_RULES)
def test_transaction_rules(change: dict, attr: str, code: str) -> None:
    rejected = reject(body(accounts=[account()], transactions=[transaction(**change)]))

    assert (attr, code) in codes(rejected)


def test_transactions_may_reference_accounts_of_earlier_uploads() -> None:
    parsed = parse_upload(
        body(transactions=[transaction(account_id="old")]), known_account_ids={"old"}
    )

    assert parsed.transactions[0]["account_id"] == "old"


def test_accounts_only_is_valid() -> None:
    parsed = parse_upload(body(accounts=[account()]), known_account_ids=set())

    assert parsed.transactions == []


def test_unknown_removed_id_is_fine_and_malformed_is_not() -> None:
    parsed = parse_upload(body(removed=[{"transaction_id": "never-seen"}]), known_account_ids=set())
    rejected = reject(body(removed=[{"transaction_id": 5}, "x"]))

    assert parsed.removed == ["never-seen"]
    assert codes(rejected) == [("removed.0.transaction_id", "invalid"), ("removed.1", "invalid")]


def test_duplicates() -> None:
    rejected = reject(
        body(accounts=[account(), account()], transactions=[transaction(), transaction()])
    )

    assert codes(rejected) == [
        ("accounts.1.account_id", "duplicate"),
        ("transactions.1.transaction_id", "duplicate"),
    ]


def test_modified_overrides_added_of_the_same_id() -> None:
    parsed = parse_upload(
        body(accounts=[account()], added=[transaction(amount=1)], modified=[transaction(amount=2)]),
        known_account_ids=set(),
    )

    assert [t["amount"] for t in parsed.transactions] == [2]


LIABILITY_RULES = [
    ("credit", {"aprs": None}, "liabilities.credit.0.aprs", "required"),
    (
        "credit",
        {"aprs": [{"apr_percentage": 15, "apr_type": "loan_shark_apr"}]},
        "liabilities.credit.0.aprs.0.apr_type",
        "invalid_choice",
    ),
    (
        "credit",
        {"aprs": [{"apr_type": "purchase_apr"}]},
        "liabilities.credit.0.aprs.0.apr_percentage",
        "required",
    ),
    ("credit", {"is_overdue": "nope"}, "liabilities.credit.0.is_overdue", "invalid"),
    (
        "credit",
        {"minimum_payment_amount": "20"},
        "liabilities.credit.0.minimum_payment_amount",
        "invalid",
    ),
    (
        "credit",
        {"next_payment_due_date": "soon"},
        "liabilities.credit.0.next_payment_due_date",
        "invalid",
    ),
    ("credit", {"account_id": "ghost"}, "liabilities.credit.0.account_id", "unknown_account"),
    (
        "mortgage",
        {"interest_rate": {"percentage": "3.99", "type": "fixed"}},
        "liabilities.mortgage.0.interest_rate.percentage",
        "invalid",
    ),
    ("mortgage", {"has_pmi": "yes"}, "liabilities.mortgage.0.has_pmi", "invalid"),
    (
        "student",
        {"interest_rate_percentage": None},
        "liabilities.student.0.interest_rate_percentage",
        "required",
    ),
    (
        "student",
        {"loan_status": {"type": "on vacation"}},
        "liabilities.student.0.loan_status.type",
        "invalid_choice",
    ),
    (
        "student",
        {"repayment_plan": {"type": "whenever"}},
        "liabilities.student.0.repayment_plan.type",
        "invalid_choice",
    ),
]


@pytest.mark.parametrize(("kind", "change", "attr", "code"), LIABILITY_RULES)
def test_liability_rules(kind: str, change: dict, attr: str, code: str) -> None:
    data = example("liabilities_get")
    data["liabilities"][kind][0].update(change)

    rejected = reject(json.dumps(data).encode())

    assert (attr, code) in codes(rejected)


def test_a_credit_liability_needs_a_credit_account() -> None:
    data = example("liabilities_get")
    checking = data["accounts"][0]["account_id"]
    data["liabilities"]["credit"][0]["account_id"] = checking

    assert ("liabilities.credit.0.account_id", "invalid") in codes(
        reject(json.dumps(data).encode())
    )


def test_liability_lists_may_be_null() -> None:
    data = example("liabilities_get")
    data["liabilities"] = {"credit": None, "mortgage": None, "student": None}

    parsed = parse_upload(json.dumps(data).encode(), known_account_ids=set())

    assert parsed.liabilities == []


def test_every_error_is_reported_capped_with_a_total() -> None:
    transactions = [transaction(f"tx-{n}", date="bad", amount="bad") for n in range(30)]

    rejected = reject(body(accounts=[account()], transactions=transactions), max_errors=25)

    assert rejected.error_count == 60
    assert len(rejected.errors) == 25
    assert rejected.errors[0].attr == "transactions.0.date"
    assert rejected.errors[1].attr == "transactions.0.amount"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "empty"),
        (b"  \n\t", 400, "empty"),
        (b"\xff\xfe{\x00}", 415, "unsupported_media_type"),
        ('{"accounts": [], "x": "caf\u00e9"}'.encode("latin-1"), 415, "unsupported_encoding"),
        (b"\x89PNG\r\n\x1a\n", 415, "unsupported_encoding"),
        (b"just some words", 415, "unsupported_media_type"),
        (b'{"accounts": [', 400, "parse_error"),
        (b"[1, 2, 3]", 400, "invalid"),
        (b'{"hello": "world"}', 400, "no_data"),
        (b'{"accounts": [{"balances": {"current": NaN}}]}', 400, "parse_error"),
        (b'{"accounts": [{"balances": {"current": Infinity}}]}', 400, "parse_error"),
        (b'{"accounts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "too_deep"),
        (b'{"accounts": {"not": "a list"}}', 400, "invalid"),
        (b'{"liabilities": []}', 400, "invalid"),
    ],
    ids=[
        "empty",
        "blank",
        "nul-bytes",
        "latin-1",
        "binary",
        "prose",
        "truncated-json",
        "top-level-array",
        "no-plaid-keys",
        "nan",
        "infinity",
        "deep-nesting",
        "accounts-not-a-list",
        "liabilities-not-an-object",
    ],
)
def test_hostile_and_wrong_content(content: bytes, status: int, code: str) -> None:
    rejected = reject(content)

    assert rejected.status == status
    assert rejected.errors[0].code == code


def test_a_bom_is_tolerated() -> None:
    parsed = parse_upload(b"\xef\xbb\xbf" + body(accounts=[account()]), known_account_ids=set())

    assert len(parsed.accounts) == 1


def test_format_is_recognised_by_content() -> None:
    assert detect_format('  {"accounts": []}') == "json"
    assert detect_format("account_id,type\n") == "csv"


# --- CSV ---------------------------------------------------------------------------------

TX_HEADER = (
    "account_id,transaction_id,date,amount,iso_currency_code,name,merchant_name,payment_channel,"
    "pending,personal_finance_category.primary,personal_finance_category.detailed"
)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_csv_transactions() -> None:
    content = csv_bytes(
        TX_HEADER,
        "acc-1,tx-1,2026-10-01,12.50,USD,NETFLIX.COM,Netflix,online,false,ENTERTAINMENT,ENTERTAINMENT_TV_AND_MOVIES",
        "acc-1,tx-2,2026-10-02,-2000,USD,PAYROLL,,other,,INCOME,INCOME_WAGES",
    )

    parsed = parse_upload(content, known_account_ids={"acc-1"})

    assert parsed.file_format == "csv"
    assert [(t["transaction_id"], t["amount"], t["pending"]) for t in parsed.transactions] == [
        ("tx-1", Decimal("12.50"), False),
        ("tx-2", Decimal("-2000"), False),
    ]
    assert parsed.transactions[1]["pfc_primary"] == "INCOME"


def test_csv_bad_rows_are_named_with_their_line() -> None:
    content = csv_bytes(
        TX_HEADER,
        "acc-1,tx-1,2026-10-01,12.50,USD,NETFLIX.COM,Netflix,online,false,ENTERTAINMENT,",
        "",
        "acc-1,tx-2,2026-10-02,twelve,USD,X,,online,false,ENTERTAINMENT,",
        "acc-1,tx-3,2026-10-02",
        "acc-9,tx-4,2026-10-40,1e999999999,USD,X,,online,maybe,GAMBLING,",
    )

    rejected = reject(content, known={"acc-1"})

    assert [(e.attr, e.code, e.detail) for e in rejected.errors] == [
        ("transactions.1.amount", "invalid", "Must be a number. (line 4)"),
        ("transactions.2", "invalid", "Expected 11 columns, found 3. (line 5)"),
        (
            "transactions.3.account_id",
            "unknown_account",
            "Unknown account: not in this upload nor in an earlier valid upload. (line 6)",
        ),
        (
            "transactions.3.date",
            "invalid",
            "Must be a date in ISO 8601 form (YYYY-MM-DD). (line 6)",
        ),
        (
            "transactions.3.amount",
            "out_of_range",
            "Must be a finite number below 10^14 in size. (line 6)",
        ),
        ("transactions.3.pending", "invalid", "Must be true, false or null. (line 6)"),
    ]


def test_csv_accounts() -> None:
    content = csv_bytes(
        "account_id,name,mask,type,subtype,balances.current,balances.available,balances.limit,balances.iso_currency_code",
        "card-1,Visa,4523,credit,credit card,3400,1600,5000,USD",
        "sav-1,Savings,1111,depository,savings,12000.55,,,USD",
    )

    parsed = parse_upload(content, known_account_ids=set())

    assert [(a["account_id"], a["limit"], a["available"]) for a in parsed.accounts] == [
        ("card-1", Decimal("5000"), Decimal("1600")),
        ("sav-1", None, None),
    ]


def test_csv_credit_liabilities_one_row_per_apr() -> None:
    content = csv_bytes(
        "account_id,apr_percentage,apr_type,balance_subject_to_apr,interest_charge_amount,is_overdue,minimum_payment_amount,last_payment_amount,next_payment_due_date",
        "card-1,24.99,purchase_apr,3400,70.81,false,35,35,2026-11-15",
        "card-1,29.99,cash_apr,0,0,false,35,35,2026-11-15",
        "card-2,19.99,bogus_apr,0,0,false,,,",
    )

    rejected = reject(content, known={"card-1", "card-2"})
    assert codes(rejected) == [("liabilities.credit.2.apr_type", "invalid_choice")]
    assert rejected.errors[0].detail.endswith("(line 4)")

    parsed = parse_upload(
        csv_bytes(*content.decode().splitlines()[:3]), known_account_ids={"card-1"}
    )
    assert len(parsed.liabilities) == 1
    assert [a["apr_type"] for a in parsed.liabilities[0]["details"]["aprs"]] == [
        "purchase_apr",
        "cash_apr",
    ]
    assert parsed.liabilities[0]["interest_rate_percentage"] == Decimal("24.99")


def test_csv_student_and_mortgage_liabilities() -> None:
    student = csv_bytes(
        "account_id,interest_rate_percentage,is_overdue,minimum_payment_amount,loan_status.type",
        "loan-1,5.25,false,25,repayment",
    )
    mortgage = csv_bytes(
        "account_id,interest_rate.percentage,interest_rate.type,next_monthly_payment,past_due_amount",
        "home-1,3.99,fixed,3141.54,0",
    )

    assert parse_upload(student, known_account_ids={"loan-1"}).liabilities[0]["kind"] == "student"
    home = parse_upload(mortgage, known_account_ids={"home-1"}).liabilities[0]
    assert (home["kind"], home["is_overdue"], home["minimum_payment_amount"]) == (
        "mortgage",
        False,
        Decimal("3141.54"),
    )


def test_csv_missing_required_column_and_unknown_header() -> None:
    missing = reject(csv_bytes("account_id,transaction_id,date", "a,b,2026-01-01"))
    unknown = reject(csv_bytes("foo,bar", "1,2"))

    assert codes(missing) == [("transactions.amount", "missing_column")]
    assert codes(unknown) == [("file", "unknown_csv")]


@pytest.mark.parametrize(
    ("extra", "row", "column"),
    [
        ("foo,foo.bar", "x,", "foo"),
        ("foo.bar,foo", ",", "foo"),
        ("location,location.city.x", ",Poway", "location"),
        ("name.first", "Jo", "name"),
    ],
    ids=["value then group", "group then value", "nested twice", "a value of the model"],
)
def test_a_csv_column_that_is_also_a_group_of_columns_is_refused(
    extra: str, row: str, column: str
) -> None:
    """``x`` and ``x.y`` in one header: no record has both a value and fields at ``x``."""
    header = f"account_id,transaction_id,date,amount,iso_currency_code,name,{extra}"
    row = f"acc-1,tx-1,2026-10-01,1,USD,Coffee,{row}"

    rejected = reject(csv_bytes(header, row), {"acc-1"})

    assert codes(rejected) == [(f"transactions.{column}", "invalid")]
    assert "(line 1)" in rejected.errors[0].detail


def test_csv_with_bom_and_crlf() -> None:
    content = (
        b"\xef\xbb\xbf"
        + (
            TX_HEADER + "\r\n" + "acc-1,tx-1,2026-10-01,1,USD,X,,online,false,ENTERTAINMENT,\r\n"
        ).encode()
    )

    assert len(parse_upload(content, known_account_ids={"acc-1"}).transactions) == 1


# --- the models' edges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "attr", "code"),
    [
        # A string emptied of U+0000 is absent text, but the wrong type for anything else.
        ({"amount": "\u0000"}, "transactions.0.amount", "invalid"),
        ({"date": "\u0000"}, "transactions.0.date", "invalid"),
        (
            {"iso_currency_code": "\u0000", "unofficial_currency_code": None},
            "transactions.0.iso_currency_code",
            "required",
        ),
        # A number where a choice is expected is named, not a server error.
        ({"payment_channel": 5}, "transactions.0.payment_channel", "invalid_choice"),
        # Plaid types location; it is checked though not kept.
        ({"location": {"lat": "32.9", "city": None}}, "transactions.0.location.lat", "invalid"),
        ({"location": "Poway"}, "transactions.0.location", "invalid"),
        ({"name": "\ud800", "merchant_name": "ok"}, "transactions.0.name", "invalid"),
    ],
)
def test_model_edges(change: dict, attr: str, code: str) -> None:
    rejected = reject(body(accounts=[account()], transactions=[transaction(**change)]))

    assert codes(rejected) == [(attr, code)]


@pytest.mark.parametrize("value", [[], {"a": 1}, 5])
def test_a_choice_of_any_json_type_is_named(value: Any) -> None:
    rejected = reject(body(accounts=[account(type=value)]))

    assert codes(rejected) == [("accounts.0.type", "invalid_choice")]


def test_empty_strings_are_absent_values() -> None:
    parsed = parse_upload(
        body(
            accounts=[account(balances={"current": "", "iso_currency_code": "USD"})],
            transactions=[transaction(authorized_date="", payment_channel="", pending="")],
        ),
        known_account_ids=set(),
    )

    assert parsed.accounts[0]["current"] is None
    assert [
        (t["authorized_date"], t["payment_channel"], t["pending"]) for t in parsed.transactions
    ] == [(None, "", False)]


def test_a_subtype_of_another_type_and_one_of_none() -> None:
    rejected = reject(body(accounts=[account(subtype="mortgage"), account("acc-2", subtype=True)]))

    assert [(e.attr, e.code, e.detail) for e in rejected.errors] == [
        (
            "accounts.0.subtype",
            "invalid_choice",
            '"mortgage" is not a valid subtype for a depository account.',
        ),
        (
            "accounts.1.subtype",
            "invalid_choice",
            "true is not a valid subtype for a depository account.",
        ),
    ]


def test_errors_of_one_record_come_in_field_order_rules_included() -> None:
    rejected = reject(
        body(
            transactions=[
                transaction(account_id="ghost", date="x", iso_currency_code=None, pending=3)
            ]
        )
    )

    assert codes(rejected) == [
        ("transactions.0.account_id", "unknown_account"),
        ("transactions.0.date", "invalid"),
        ("transactions.0.pending", "invalid"),
    ]


# --- a file read again once validated (the task, when the stored digest matches) -----------

VARIED_CSV = (
    "\ufeffmerchant_name ,  account_id,transaction_id,date,authorized_date,amount,"
    "iso_currency_code,unofficial_currency_code,name,payment_channel,pending,"
    "personal_finance_category.primary,personal_finance_category.detailed,location.city,"
    "not_a_plaid_field\r\n"
    ' Walmart ,acc-1,tx-1,2026-10-01,2026-09-30,12.50,USD,,"NAME, with ""comma""",online,'
    "false,GENERAL_MERCHANDISE,GENERAL_MERCHANDISE_SUPERSTORES,Poway,x\r\n"
    "\r\n"
    ',acc-1,tx-2,2026-10-02,,-2000.00005,,BTC,"two\nlines",other,TRUE,,DETAILED ONLY,,\r\n'
    ",,,,,,,,,,,,,,\r\n"
    "Café 東京 🍕,acc-1,tx-3,2026-10-03,,0.00004,USD,,,in store,Y,INCOME,,,\r\n"
    "Tab\there,acc-1,tx-4,2026-10-04,,1e3,USD,,\\N,,1,ENTERTAINMENT,,,\r\n"
    "m,acc-1,tx-5,2026-10-05,,-0,USD,,n,,,INCOME,,,\r\n"
)


def bench_csv(rows: int) -> bytes:
    from uploads.management.commands.bench_upload import CSV_HEADER, build_csv

    content, _ = build_csv(len(CSV_HEADER) + rows * 140)
    return content


@pytest.mark.parametrize(
    "content",
    [
        VARIED_CSV.encode(),
        csv_bytes(
            "transaction_id,account_id,date,amount,unofficial_currency_code",
            "tx-1,acc-1,2026-10-01,1,XX",
        ),
        csv_bytes(TX_HEADER, "acc-1,tx-1,2026-10-01,12.50,USD,,,,,,"),
    ],
    ids=["varied", "few columns", "blank optional cells"],
)
def test_a_validated_transactions_csv_is_read_into_the_records_validation_gave(
    content: bytes,
) -> None:
    validated = parse_upload(content, known_account_ids={"acc-1"})

    assert read_validated(content) == validated
    assert validated.transactions


def test_the_benchmark_csv_is_read_into_the_records_validation_gave() -> None:
    content = bench_csv(500)

    assert read_validated(content) == parse_upload(content, known_account_ids={"bench-checking"})


@pytest.mark.parametrize(
    "content",
    [
        example_bytes("transactions_get"),
        csv_bytes("account_id,type,balances.iso_currency_code", "acc-1,depository,USD"),
        csv_bytes(TX_HEADER + ",category", "acc-1,tx-1,2026-10-01,1,USD,,,,,,,"),
        csv_bytes(TX_HEADER + ",personal_finance_category", "acc-1,tx-1,2026-10-01,1,USD,,,,,,,"),
        csv_bytes(TX_HEADER + ",amount", "acc-1,tx-1,2026-10-01,1,USD,,,,,,,1"),
        csv_bytes(TX_HEADER, "acc-1,tx-1,2026-10-01,1,USD,,,,,,", "acc-1,tx-2"),
        csv_bytes(TX_HEADER, "acc-1,tx-1,2026-13-01,1,USD,,,,,,"),
        b"\xff\xfe",
    ],
    ids=[
        "json",
        "accounts",
        "category column",
        "category, not dotted",
        "a column twice",
        "a short row",
        "a date that is none",
        "not text",
    ],
)
def test_a_file_the_reader_does_not_know_is_left_to_validation(content: bytes) -> None:
    assert read_validated(content) is None
