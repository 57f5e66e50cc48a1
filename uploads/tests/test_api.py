"""POST/GET /data/upload end to end: validation, storage, ingestion, ownership."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from tests.support.clients import UPLOAD, SignedIn, sign_in, upload
from tests.support.consent import grant_consent
from tests.support.errors import error_body
from tests.support.factories.accounts import OperatorFactory, UserFactory
from tests.support.plaid import EXAMPLES, account, body, example, example_bytes, transaction
from uploads.models import Account, DataUpload, Liability, Transaction

pytestmark = pytest.mark.django_db

EXPECTED_COUNTS = {
    "accounts_get": {"accounts": 3, "transactions": 0, "liabilities": 0},
    "transactions_get": {"accounts": 1, "transactions": 2, "liabilities": 0},
    "transactions_sync": {"accounts": 1, "transactions": 2, "liabilities": 0},
    "liabilities_get": {"accounts": 4, "transactions": 0, "liabilities": 3},
}


def counts(upload_body: dict[str, Any]) -> dict[str, dict[str, int]]:
    return upload_body["counts"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_plaid_example_is_accepted_and_ingested(consented: SignedIn, name: str) -> None:
    response = upload(consented.client, example_bytes(name), f"{name}.json")

    assert response.status_code == HTTPStatus.ACCEPTED
    upload_id = response.json()["upload_id"]
    assert response["Location"] == f"/api/v1/data/upload/{upload_id}"
    detail = consented.client.get(f"{UPLOAD}/{upload_id}").json()
    assert detail["status"] == "processed"
    for kind, created in EXPECTED_COUNTS[name].items():
        assert detail["counts"][kind]["created"] == created
    assert detail["counts"]["transactions"]["removed"] == 0
    assert detail["errors"] == []
    assert detail["file_name"] == f"{name}.json"
    assert detail["file_size"] == len(example_bytes(name))
    assert detail["processed_at"] is not None


def test_plaid_sign_and_precision_are_kept(consented: SignedIn) -> None:
    upload(consented.client, example_bytes("transactions_get"))
    data = body(
        accounts=[account("card", type="credit", subtype="credit card")],
        transactions=[transaction("refund", "card", amount=-23631.9805)],
    )
    upload(consented.client, data)

    amounts = dict(
        Transaction.objects.filter(user=consented.user).values_list("transaction_id", "amount")
    )
    assert str(amounts["refund"]) == "-23631.9805"
    assert str(amounts["lPNjeW1nR6CDn5okmGQ6hEpMo4lLNoSrzqDje"]) == "72.1000"
    assert (
        Transaction.objects.get(transaction_id="yhnUVvtcGGcCKU0bcz8PDQr5ZUxUXebUvbKC0").pending
        is True
    )


def test_liabilities_are_stored_by_kind(consented: SignedIn) -> None:
    upload(consented.client, example_bytes("liabilities_get"))

    stored = {row.kind: row for row in Liability.objects.filter(user=consented.user)}
    assert set(stored) == {"credit", "mortgage", "student"}
    assert str(stored["credit"].minimum_payment_amount) == "20.0000"
    assert stored["credit"].details["aprs"][0]["apr_type"] == "balance_transfer_apr"
    assert str(stored["student"].interest_rate_percentage) == "5.2500"


def test_the_same_file_again_is_a_new_upload_that_changes_nothing(consented: SignedIn) -> None:
    first = upload(consented.client, example_bytes("transactions_get")).json()
    before = list(
        Transaction.objects.filter(user=consented.user).values(
            "transaction_id", "amount", "updated_at"
        )
    )

    second = upload(consented.client, example_bytes("transactions_get"))

    assert second.status_code == HTTPStatus.ACCEPTED
    assert second.json()["upload_id"] != first["upload_id"]
    detail = consented.client.get(f"{UPLOAD}/{second.json()['upload_id']}").json()
    assert detail["counts"] == {
        "accounts": {"created": 0, "updated": 0, "removed": 0},
        "transactions": {"created": 0, "updated": 0, "removed": 0},
        "liabilities": {"created": 0, "updated": 0, "removed": 0, "without_account": 0},
    }
    after = list(
        Transaction.objects.filter(user=consented.user).values(
            "transaction_id", "amount", "updated_at"
        )
    )
    assert after == before


def test_sync_modifies_and_removes(consented: SignedIn) -> None:
    upload(
        consented.client,
        body(accounts=[account()], transactions=[transaction("a", amount=10), transaction("b")]),
    )

    response = upload(
        consented.client,
        body(
            modified=[transaction("a", amount=11)],
            removed=[{"transaction_id": "b"}, {"transaction_id": "never"}],
        ),
    )

    detail = consented.client.get(f"{UPLOAD}/{response.json()['upload_id']}").json()
    assert detail["counts"]["transactions"] == {"created": 0, "updated": 1, "removed": 1}
    assert list(
        Transaction.objects.filter(user=consented.user).values_list("transaction_id", "amount")
    ) == [("a", 11)]


def test_transactions_may_reference_accounts_of_an_earlier_upload(consented: SignedIn) -> None:
    upload(consented.client, body(accounts=[account("acc-7")]))

    response = upload(consented.client, body(transactions=[transaction(account_id="acc-7")]))

    assert response.status_code == HTTPStatus.ACCEPTED


def test_an_invalid_file_is_rejected_whole_and_kept_as_rejected(consented: SignedIn) -> None:
    data = body(
        accounts=[account()],
        transactions=[transaction("ok"), transaction("bad", date="2026-02-30", amount="x")],
    )

    response = upload(consented.client, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == error_body(
        "validation_error",
        ("invalid", "Must be a date in ISO 8601 form (YYYY-MM-DD).", "transactions.1.date"),
        ("invalid", "Must be a number.", "transactions.1.amount"),
    )
    assert not Account.objects.exists()
    assert not Transaction.objects.exists()
    rejected = DataUpload.objects.get(pk=response["X-Upload-ID"])
    assert rejected.status == "rejected"
    assert rejected.storage_key == ""
    detail = consented.client.get(f"{UPLOAD}/{rejected.pk}").json()
    assert detail["status"] == "rejected"
    assert detail["error_count"] == 2
    assert [e["attr"] for e in detail["errors"]] == ["transactions.1.date", "transactions.1.amount"]


def test_rejected_accounts_are_not_known_later(consented: SignedIn) -> None:
    upload(consented.client, body(accounts=[account("acc-x", type="nope")]))

    response = upload(consented.client, body(transactions=[transaction(account_id="acc-x")]))

    assert response.json()["errors"][0]["code"] == "unknown_account"


def test_too_many_errors_are_capped_with_a_total(consented: SignedIn, settings: Any) -> None:
    settings.UPLOAD_MAX_ERRORS = 3
    data = body(
        accounts=[account()], transactions=[transaction(f"t{n}", amount="x") for n in range(5)]
    )

    errors = upload(consented.client, data).json()["errors"]

    assert len(errors) == 4
    assert errors[-1] == {
        "code": "too_many_errors",
        "detail": "5 errors in total; the first 3 are listed.",
        "attr": "file",
    }


def test_csv_upload(consented: SignedIn) -> None:
    upload(consented.client, body(accounts=[account()]))
    content = (
        b"account_id,transaction_id,date,amount,iso_currency_code,name,merchant_name,payment_channel,pending,"
        b"personal_finance_category.primary,personal_finance_category.detailed\n"
        b"acc-1,c1,2026-10-01,15.99,USD,SPOTIFY,Spotify,online,false,ENTERTAINMENT,ENTERTAINMENT_MUSIC\n"
    )

    response = upload(consented.client, content, "export.txt")  # the name does not matter

    assert response.status_code == HTTPStatus.ACCEPTED
    assert Transaction.objects.get(transaction_id="c1").merchant_name == "Spotify"
    assert DataUpload.objects.get(pk=response.json()["upload_id"]).file_format == "csv"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", HTTPStatus.BAD_REQUEST, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (
            "caf\u00e9,ol\u00e9".encode("latin-1"),
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
        ),
        (b"{" * 50_000, HTTPStatus.BAD_REQUEST, "parse_error"),
        (
            b'{"accounts": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            HTTPStatus.BAD_REQUEST,
            "too_deep",
        ),
    ],
    ids=["empty", "binary", "latin-1", "unclosed-json", "deep-json"],
)
def test_wrong_and_hostile_content(
    consented: SignedIn, content: bytes, status: int, code: str
) -> None:
    response = upload(consented.client, content)

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert response.json()["errors"][0]["attr"] == "file"


def test_missing_file_field(consented: SignedIn) -> None:
    response = consented.client.post(UPLOAD, {"other": "x"}, format="multipart")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {
            "code": "required",
            "detail": "Send the file in the multipart field 'file'.",
            "attr": "file",
        }
    ]


def test_json_body_instead_of_multipart_is_415(consented: SignedIn) -> None:
    response = consented.client.post(UPLOAD, example("accounts_get"), format="json")

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_a_file_just_over_10_mb_is_413_and_nothing_is_recorded(consented: SignedIn) -> None:
    content = b'{"accounts": []' + b" " * (10 * 1024 * 1024 - 15) + b"}"
    assert len(content) == 10 * 1024 * 1024 + 1

    response = upload(consented.client, content)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()["errors"][0]["code"] == "too_large"
    assert not DataUpload.objects.exists()


def test_a_huge_declared_body_is_refused_before_reading(consented: SignedIn) -> None:
    response = consented.client.generic(
        "POST",
        UPLOAD,
        "--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_exactly_10_mb_is_accepted(consented: SignedIn) -> None:
    content = body(accounts=[account()])
    content = content[:-1] + b" " * (10 * 1024 * 1024 - len(content)) + b"}"

    assert upload(consented.client, content).status_code == HTTPStatus.ACCEPTED


def test_idempotency_key_replays_the_first_answer(consented: SignedIn) -> None:
    first = upload(consented.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY="retry-1")
    second = upload(consented.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY="retry-1")

    assert second.status_code == HTTPStatus.ACCEPTED
    assert second.json()["upload_id"] == first.json()["upload_id"]
    assert DataUpload.objects.count() == 1


def test_idempotency_key_with_another_file_is_409(consented: SignedIn) -> None:
    upload(consented.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY="k")

    response = upload(consented.client, example_bytes("transactions_get"), HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert DataUpload.objects.count() == 1


def test_idempotent_replay_of_a_rejected_file(consented: SignedIn) -> None:
    bad = body(accounts=[account(type="nope")])
    first = upload(consented.client, bad, HTTP_IDEMPOTENCY_KEY="bad-1")
    second = upload(consented.client, bad, HTTP_IDEMPOTENCY_KEY="bad-1")

    assert second.status_code == first.status_code == HTTPStatus.BAD_REQUEST
    assert second.content == first.content
    assert DataUpload.objects.count() == 1


def test_idempotency_keys_are_per_user(consented: SignedIn) -> None:
    other = sign_in(grant_consent(UserFactory.create()))
    upload(consented.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY="same")

    response = upload(other.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY="same")

    assert response.status_code == HTTPStatus.ACCEPTED
    assert DataUpload.objects.count() == 2


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\tkey"])
def test_malformed_idempotency_key(consented: SignedIn, key: str) -> None:
    response = upload(consented.client, example_bytes("accounts_get"), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"


def test_upload_needs_consent(signed_in: SignedIn) -> None:
    response = upload(signed_in.client, example_bytes("accounts_get"))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["errors"][0]["code"] == "consent_required"
    assert not DataUpload.objects.exists()


def test_anonymous_is_401(api_client: APIClient) -> None:
    assert upload(api_client, example_bytes("accounts_get")).status_code == HTTPStatus.UNAUTHORIZED
    assert api_client.get(UPLOAD).status_code == HTTPStatus.UNAUTHORIZED


def test_one_users_upload_never_touches_anothers_rows(consented: SignedIn) -> None:
    other = sign_in(grant_consent(UserFactory.create()))
    upload(consented.client, body(accounts=[account("shared-id", name="Mine")]))

    upload(other.client, body(accounts=[account("shared-id", name="Theirs")]))

    assert Account.objects.get(user=consented.user).name == "Mine"
    assert Account.objects.get(user=other.user).name == "Theirs"


def test_another_users_upload_is_404(consented: SignedIn) -> None:
    other = sign_in(grant_consent(UserFactory.create()))
    theirs = upload(other.client, example_bytes("accounts_get")).json()["upload_id"]

    assert consented.client.get(f"{UPLOAD}/{theirs}").status_code == HTTPStatus.NOT_FOUND
    assert consented.client.get(f"{UPLOAD}/not-a-uuid").status_code == HTTPStatus.NOT_FOUND


def test_list_shows_own_uploads_only(consented: SignedIn) -> None:
    other = sign_in(grant_consent(UserFactory.create()))
    upload(other.client, example_bytes("accounts_get"))
    upload(consented.client, example_bytes("accounts_get"))
    upload(consented.client, body(accounts=[account(type="bad")]))

    page = consented.client.get(UPLOAD).json()
    # Filters narrow within what the caller may see: someone else's id finds nothing.
    foreign = consented.client.get(f"{UPLOAD}?user={other.user.id}").json()

    assert foreign["count"] == 0
    assert page["count"] == 2
    assert {item["user_id"] for item in page["results"]} == {str(consented.user.id)}
    assert [item["status"] for item in page["results"]] == ["rejected", "processed"]
    assert all(item["download_url"] is None for item in page["results"])


def test_operators_see_everyones_uploads_and_filter_by_user(consented: SignedIn) -> None:
    operator = sign_in(OperatorFactory.create())
    upload(consented.client, example_bytes("accounts_get"))

    everyone = operator.client.get(UPLOAD).json()
    one_user = operator.client.get(f"{UPLOAD}?user={consented.user.id}&status=processed").json()
    nobody = operator.client.get(f"{UPLOAD}?user={operator.user.id}").json()

    assert everyone["count"] == one_user["count"] == 1
    assert nobody["count"] == 0
    detail = operator.client.get(f"{UPLOAD}/{one_user['results'][0]['upload_id']}")
    assert detail.status_code == HTTPStatus.OK


@pytest.mark.parametrize("query", ["user=not-a-uuid", "status=exploded"])
def test_bad_list_filters_are_400(consented: SignedIn, query: str) -> None:
    response = consented.client.get(f"{UPLOAD}?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == query.split("=")[0]


def test_the_file_is_stored_under_the_users_key(consented: SignedIn) -> None:
    response = upload(consented.client, example_bytes("accounts_get"), "../../etc/my file.json")

    stored = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert stored.storage_key == f"uploads/{consented.user.id}/{stored.id}/my_file.json"
    with default_storage.open(stored.storage_key) as handle:
        assert handle.read() == example_bytes("accounts_get")
    assert stored.sha256 == __import__("hashlib").sha256(example_bytes("accounts_get")).hexdigest()


def test_detail_shape(consented: SignedIn) -> None:
    upload_id = upload(consented.client, example_bytes("accounts_get")).json()["upload_id"]

    detail = consented.client.get(f"{UPLOAD}/{upload_id}").json()

    assert set(detail) == {
        "upload_id",
        "user_id",
        "status",
        "file_name",
        "file_size",
        "file_format",
        "sha256",
        "counts",
        "errors",
        "error_count",
        "created_at",
        "processed_at",
        "download_url",
    }
    assert json.dumps(detail)  # serialisable as it is
