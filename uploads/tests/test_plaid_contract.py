"""What Plaid may send is accepted and processed (issue #20), and what no column can hold is
a located 400 before anything is stored (issue #15, item 9). Through the real endpoint."""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.db import DataError, models

from tests.support.clients import UPLOAD, SignedIn, upload
from tests.support.plaid import account, body, example, transaction
from uploads import models as upload_models
from uploads import validation
from uploads.categories import _BY_SIGN, LEGACY_MAP, from_legacy, primary_of
from uploads.limits import ID_MAX_LENGTH
from uploads.models import Account, DataUpload, Liability, Transaction

pytestmark = pytest.mark.django_db

TX_HEADER = (
    "account_id,transaction_id,date,amount,iso_currency_code,name,merchant_name,"
    "payment_channel,pending,personal_finance_category.primary,personal_finance_category.detailed"
)


def detail(signed: SignedIn, response: Any) -> dict[str, Any]:
    assert response.status_code == HTTPStatus.ACCEPTED, response.content
    result: dict[str, Any] = signed.client.get(f"{UPLOAD}/{response.json()['upload_id']}").json()
    return result


def rejected(response: Any) -> list[tuple[str, str]]:
    """(attr, code) of a 400, after checking the upload was kept as rejected."""
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    stored = DataUpload.objects.get(pk=response["X-Upload-ID"])
    assert stored.status == "rejected"
    assert stored.storage_key == ""
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


# --- numbers: the validator's range is the columns' capacity ------------------------------


def test_every_number_column_is_the_capacity_the_validator_checks() -> None:
    decimal_fields = [
        field
        for model in (Account, Transaction, Liability)
        for field in model._meta.get_fields()
        if isinstance(field, models.DecimalField)
    ]

    assert len(decimal_fields) == 8
    for field in decimal_fields:
        capacity = Decimal(10) ** (field.max_digits - field.decimal_places)
        assert capacity == validation.MAX_MONEY, field
        assert Decimal(1).scaleb(-field.decimal_places) == validation.NUMBER_QUANTUM, field
    id_fields = [
        Transaction._meta.get_field("account_id"),
        Transaction._meta.get_field("transaction_id"),
        Account._meta.get_field("account_id"),
        Liability._meta.get_field("account_id"),
    ]
    assert {getattr(field, "max_length", None) for field in id_fields} == {ID_MAX_LENGTH}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("99999999999999.9999", Decimal("99999999999999.9999")),
        ("-99999999999999.9999", Decimal("-99999999999999.9999")),
        ("99999999999999.99994", Decimal("99999999999999.9999")),
        ("0.00005", Decimal("0.0001")),  # rounded as PostgreSQL rounds: halves away from zero
        ("-0.00005", Decimal("-0.0001")),
        ("1e-999999999", Decimal("0.0000")),
        ("12E+2", Decimal("1200.0000")),
    ],
)
def test_numbers_up_to_the_capacity_are_stored_as_sent(
    consented: SignedIn, sent: str, kept: Decimal
) -> None:
    content = body(accounts=[account()], transactions=[transaction(amount=0)]).replace(
        b'"amount": 0', f'"amount": {sent}'.encode()
    )

    result = detail(consented, upload(consented.client, content))

    assert result["status"] == "processed"
    assert Transaction.objects.get(user=consented.user).amount == kept


HUGE = ["1e999999999", "-1E+999999999", "9" * 5000, "100000000000000", "99999999999999.99995"]


@pytest.mark.parametrize("number", HUGE)
def test_a_number_no_column_holds_is_a_located_400_in_json(
    consented: SignedIn, number: str
) -> None:
    content = body(accounts=[account()], transactions=[transaction(amount=0)]).replace(
        b'"amount": 0', f'"amount": {number}'.encode()
    )

    response = upload(consented.client, content)

    assert rejected(response) == [("transactions.0.amount", "out_of_range")]
    assert response.json()["errors"][0]["detail"] == (
        "Must be a finite number below 10^14 in size."
    )
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("number", HUGE)
def test_a_number_no_column_holds_is_a_located_400_in_csv(consented: SignedIn, number: str) -> None:
    upload(consented.client, body(accounts=[account()]))
    content = (
        f"{TX_HEADER}\nacc-1,tx-1,2026-10-01,{number},USD,X,,online,false,ENTERTAINMENT,\n"
    ).encode()

    response = upload(consented.client, content, "t.csv")

    assert rejected(response) == [("transactions.0.amount", "out_of_range")]
    assert response.json()["errors"][0]["detail"].endswith("(line 2)")


def test_huge_numbers_elsewhere_are_located_too(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["liabilities"]["student"][0]["interest_rate_percentage"] = 1
    content = (
        json.dumps(data)
        .replace('"interest_rate_percentage": 1', '"interest_rate_percentage": 1e999999999')
        .encode()
    )
    accounts = body(accounts=[account(balances={"current": 0, "iso_currency_code": "USD"})])
    accounts = accounts.replace(b'"current": 0', b'"current": ' + b"7" * 5000)

    assert rejected(upload(consented.client, content)) == [
        ("liabilities.student.0.interest_rate_percentage", "out_of_range")
    ]
    assert rejected(upload(consented.client, accounts)) == [
        ("accounts.0.balances.current", "out_of_range")
    ]


def test_a_huge_integer_in_a_field_we_ignore_is_ignored(consented: SignedIn) -> None:
    content = body(accounts=[account()]).replace(b'"mask"', b'"x": ' + b"9" * 5000 + b', "mask"')

    assert detail(consented, upload(consented.client, content))["status"] == "processed"


def test_a_student_loan_rate_past_the_old_column_is_stored(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["liabilities"]["student"][0]["interest_rate_percentage"] = 123456.5

    result = detail(consented, upload(consented.client, json.dumps(data).encode()))

    assert result["status"] == "processed"
    assert Liability.objects.get(kind="student").interest_rate_percentage == Decimal("123456.5")


# --- text --------------------------------------------------------------------------------


def test_nul_characters_are_removed_from_every_string_kept(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["accounts"][0]["name"] = "Plaid\u0000 Checking"
    data["accounts"][0]["official_name"] = "\u0000"
    data["liabilities"]["mortgage"][0]["loan_type_description"] = "conven\u0000tional"
    data["liabilities"]["student"][0]["loan_name"] = "Consolidation\u0000"
    transactions = body(
        accounts=[account()],
        transactions=[transaction(name="NET\u0000FLIX", merchant_name="\u0000Netflix")],
    )

    first = detail(consented, upload(consented.client, json.dumps(data).encode()))
    second = detail(consented, upload(consented.client, transactions))

    assert (first["status"], second["status"]) == ("processed", "processed")
    checking = Account.objects.get(account_id=data["accounts"][0]["account_id"])
    assert (checking.name, checking.official_name) == ("Plaid Checking", "")
    mortgage = Liability.objects.get(kind="mortgage")
    assert mortgage.details["loan_type_description"] == "conventional"
    assert Liability.objects.get(kind="student").details["loan_name"] == "Consolidation"
    stored = Transaction.objects.get(user=consented.user)
    assert (stored.name, stored.merchant_name) == ("NETFLIX", "Netflix")


def test_a_lone_surrogate_is_a_located_400(consented: SignedIn) -> None:
    content = body(accounts=[account()], transactions=[transaction(name="\ud800")])

    assert rejected(upload(consented.client, content)) == [("transactions.0.name", "invalid")]


def test_free_text_has_no_length_limit_and_ids_have_the_columns(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["liabilities"]["mortgage"][0]["loan_term"] = "30 year " * 40
    data["accounts"][0]["name"] = "N" * 5000
    data["accounts"][0]["mask"] = "M" * 300
    long_id = "a" * ID_MAX_LENGTH
    transactions = body(
        accounts=[account(long_id)],
        transactions=[transaction("t" * ID_MAX_LENGTH, long_id, name="n" * 3000)],
    )

    assert detail(consented, upload(consented.client, json.dumps(data).encode()))["status"] == (
        "processed"
    )
    assert detail(consented, upload(consented.client, transactions))["status"] == "processed"
    assert Liability.objects.get(kind="mortgage").details["loan_term"] == "30 year " * 40
    assert len(Transaction.objects.get(user=consented.user).name) == 3000
    too_long = body(accounts=[account("a" * (ID_MAX_LENGTH + 1))])
    assert rejected(upload(consented.client, too_long)) == [("accounts.0.account_id", "max_length")]


def test_a_transaction_may_have_no_name_and_no_merchant(consented: SignedIn) -> None:
    content = body(accounts=[account()], transactions=[transaction(name="", merchant_name=None)])

    assert detail(consented, upload(consented.client, content))["status"] == "processed"
    stored = Transaction.objects.get(user=consented.user)
    assert (stored.name, stored.merchant_name) == ("", "")


# --- categories --------------------------------------------------------------------------


def test_without_a_pfc_the_legacy_category_is_mapped_else_uncategorised(
    consented: SignedIn,
) -> None:
    content = body(
        accounts=[account()],
        transactions=[
            transaction("pfc"),
            transaction(
                "legacy",
                personal_finance_category=None,
                category=["Service", "Utilities", "Electric"],
            ),
            transaction("absent", category=["Transfer", "Payroll"], amount=-2000),
            transaction("unknown", personal_finance_category=None, category=["Made", "Up"]),
            transaction("none", personal_finance_category=None),
            transaction(
                "empty",
                personal_finance_category={"primary": "", "detailed": ""},
                category=["Shops"],
            ),
            transaction(
                "newer", personal_finance_category={"primary": "CRYPTO", "detailed": "CRYPTO_X"}
            ),
        ],
    )
    data = json.loads(content)
    del data["transactions"][2]["personal_finance_category"]

    result = detail(consented, upload(consented.client, json.dumps(data).encode()))

    assert result["status"] == "processed"
    stored = {
        t.transaction_id: (t.pfc_primary, t.pfc_detailed, t.category_source)
        for t in Transaction.objects.filter(user=consented.user)
    }
    assert stored == {
        "pfc": ("ENTERTAINMENT", "ENTERTAINMENT_TV_AND_MOVIES", "pfc"),
        "legacy": ("RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY", "legacy"),
        "absent": ("INCOME", "INCOME_WAGES", "legacy"),
        "unknown": ("", "", "none"),
        "none": ("", "", "none"),
        "empty": ("GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "legacy"),
        "newer": ("CRYPTO", "CRYPTO_X", "pfc"),
    }


def test_a_csv_without_category_columns_is_uncategorised(consented: SignedIn) -> None:
    upload(consented.client, body(accounts=[account()]))
    content = b"account_id,transaction_id,date,amount,iso_currency_code,name\n"
    content += b"acc-1,tx-1,2026-10-01,5,USD,CORNER SHOP\n"

    assert detail(consented, upload(consented.client, content, "t.csv"))["status"] == "processed"
    assert Transaction.objects.get(user=consented.user).category_source == "none"


@pytest.mark.parametrize(
    ("category", "amount", "expected"),
    [
        (["Food and Drink", "Restaurants", "Coffee Shop"], 5, "FOOD_AND_DRINK_COFFEE"),
        (["food and drink", "restaurants", "Sushi"], 5, "FOOD_AND_DRINK_RESTAURANT"),
        (["Food and Drink"], 5, "FOOD_AND_DRINK_OTHER_FOOD_AND_DRINK"),
        (["Transfer", "Internal Account Transfer"], -100, "TRANSFER_IN_OTHER_TRANSFER_IN"),
        (["Transfer", "Internal Account Transfer"], 100, "TRANSFER_OUT_OTHER_TRANSFER_OUT"),
        (["Transfer", "Savings"], 100, "TRANSFER_OUT_SAVINGS"),
        (["Interest"], -1, "INCOME_INTEREST_EARNED"),
        (["Interest"], 1, "BANK_FEES_INTEREST_CHARGE"),
        (["Service", "Telecommunication Services"], 80, "RENT_AND_UTILITIES_TELEPHONE"),
        (["Payment", "Credit Card"], 300, "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"),
        (["Unheard Of"], 5, None),
        ([], 5, None),
        (["Transfer"], None, None),
    ],
)
def test_legacy_mapping(category: list[str], amount: int | None, expected: str | None) -> None:
    mapped = from_legacy(category, Decimal(amount) if amount is not None else None)

    assert (mapped[1] if mapped else None) == expected
    if mapped:
        assert mapped[1].startswith(mapped[0])


def test_every_legacy_mapping_names_a_known_detailed_category() -> None:
    targets = {t for t in LEGACY_MAP.values() if not t.startswith("=")}
    targets |= {d for pair in _BY_SIGN.values() for d in pair}
    signed = {t[1:] for t in LEGACY_MAP.values() if t.startswith("=")}

    assert signed == set(_BY_SIGN)
    for detailed in targets:
        assert detailed.startswith(primary_of(detailed) + "_"), detailed


# --- liabilities without an account ------------------------------------------------------


def test_liabilities_without_an_account_are_counted_not_refused(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["liabilities"]["credit"][0]["account_id"] = None
    data["liabilities"]["student"][0]["account_id"] = None

    result = detail(consented, upload(consented.client, json.dumps(data).encode()))

    assert result["status"] == "processed"
    assert result["counts"]["liabilities"] == {
        "created": 1,
        "updated": 0,
        "removed": 0,
        "without_account": 2,
    }
    assert list(Liability.objects.values_list("kind", flat=True)) == ["mortgage"]


def test_a_liability_csv_row_without_an_account_is_counted(consented: SignedIn) -> None:
    upload(consented.client, body(accounts=[account("card-1", type="credit", subtype=None)]))
    content = (
        b"account_id,apr_percentage,apr_type,interest_charge_amount,minimum_payment_amount\n"
        b"card-1,24.99,purchase_apr,10,35\n"
        b",19.99,purchase_apr,0,25\n"
        b",29.99,cash_apr,0,25\n"
    )

    result = detail(consented, upload(consented.client, content, "credit.csv"))

    assert result["counts"]["liabilities"]["created"] == 1
    assert result["counts"]["liabilities"]["without_account"] == 2


def test_a_mortgage_still_needs_its_account(consented: SignedIn) -> None:
    data = example("liabilities_get")
    data["liabilities"]["mortgage"][0]["account_id"] = None

    assert rejected(upload(consented.client, json.dumps(data).encode())) == [
        ("liabilities.mortgage.0.account_id", "required")
    ]


# --- never 202 then fail on content ------------------------------------------------------


def test_a_content_error_at_ingestion_fails_at_once_without_retries(consented: SignedIn) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DataError("numeric field overflow")

    with mock.patch("uploads.services._ingest", side_effect=refuse):
        response = upload(consented.client, body(accounts=[account()]))

    stored = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert stored.status == "failed"
    assert stored.attempts == 1
    assert stored.error == "invalid_content: numeric field overflow"


def test_models_keep_one_module_for_their_limits() -> None:
    # The validator imports its limits from uploads.limits, as the models do: one source.
    assert upload_models.ID_MAX_LENGTH is validation.ID_MAX_LENGTH
