"""The processing task: retries, crashes half-way, storage failures, S3 as in production, and
the stored file read as validated only while it is the bytes validated."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus
from typing import Any
from unittest import mock

import boto3
import pytest
import requests
from botocore.exceptions import EndpointConnectionError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.support.clients import UPLOAD, SignedIn, sign_in, upload
from tests.support.errors import error_body
from tests.support.factories.accounts import OperatorFactory
from tests.support.plaid import account, body, example_bytes, transaction
from uploads import services
from uploads.models import Account, DataUpload, Transaction
from uploads.tasks import process_upload

pytestmark = pytest.mark.django_db


def test_a_transient_failure_is_retried_and_then_processed(consented: SignedIn) -> None:
    real_open = default_storage.open
    calls = {"n": 0}

    def flaky_open(name: str, mode: str = "rb") -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise EndpointConnectionError(endpoint_url="https://s3.example")
        return real_open(name, mode)

    with mock.patch.object(default_storage, "open", side_effect=flaky_open):
        response = upload(consented.client, example_bytes("transactions_get"))

    stored = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert stored.status == "processed"
    assert stored.attempts == 2
    assert calls["n"] == 2
    assert Transaction.objects.filter(user=consented.user).count() == 2


def test_giving_up_marks_the_upload_failed(consented: SignedIn) -> None:
    with mock.patch.object(default_storage, "open", side_effect=OSError("disk gone")):
        response = upload(consented.client, example_bytes("transactions_get"))

    detail = consented.client.get(f"{UPLOAD}/{response.json()['upload_id']}").json()
    assert detail["status"] == "failed"
    assert detail["errors"] == [{"code": "processing_failed", "detail": "disk gone", "attr": None}]
    assert not Transaction.objects.exists()


def test_a_run_killed_half_way_then_run_again_leaves_one_runs_data(consented: SignedIn) -> None:
    data = body(accounts=[account()], transactions=[transaction(f"t{n}") for n in range(50)])
    real_upsert = services._upsert

    def dies_after_accounts(model: Any, *args: Any, **kwargs: Any) -> Any:
        if model is Transaction:
            raise SystemExit("worker killed")  # not retried by the task: a dead process
        return real_upsert(model, *args, **kwargs)

    with (
        mock.patch.object(services, "_upsert", side_effect=dies_after_accounts),
        pytest.raises(SystemExit),
    ):
        upload(consented.client, data)
    upload_row = DataUpload.objects.get()
    assert not Account.objects.exists()  # the accounts written before the crash rolled back

    process_upload.delay(str(upload_row.pk))  # the broker redelivers it
    process_upload.delay(str(upload_row.pk))  # ... even twice

    upload_row.refresh_from_db()
    assert upload_row.status == "processed"
    assert Account.objects.count() == 1
    assert Transaction.objects.count() == 50
    assert upload_row.counts["transactions"]["created"] == 50


def test_consent_revoked_before_processing_fails_the_upload(consented: SignedIn) -> None:
    with mock.patch("uploads.services._enqueue"):
        response = upload(consented.client, example_bytes("accounts_get"))
    consented.client.delete("/api/v1/consent")

    process_upload.delay(response.json()["upload_id"])

    stored = DataUpload.objects.get()
    assert stored.status == "failed"
    assert stored.error.startswith("consent_required")
    assert not Account.objects.exists()


def test_an_upload_erased_before_processing_is_skipped(consented: SignedIn) -> None:
    with mock.patch("uploads.services._enqueue"):
        response = upload(consented.client, example_bytes("accounts_get"))
    consented.client.delete("/api/v1/consent?delete_data=true")

    assert process_upload.delay(response.json()["upload_id"]).get() is None


def test_storage_down_at_upload_time_records_nothing(consented: SignedIn) -> None:
    consented.client.raise_request_exception = False
    with mock.patch.object(
        default_storage, "save", side_effect=EndpointConnectionError(endpoint_url="x")
    ):
        response = upload(consented.client, example_bytes("accounts_get"))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == error_body(
        "server_error",
        (
            "storage_unavailable",
            "File storage is unavailable; nothing was recorded. Try again later.",
            None,
        ),
    )
    assert not DataUpload.objects.exists()


def test_s3_key_encryption_and_operator_presigned_url(
    consented: SignedIn, s3_default_storage: str, aws_endpoint: str
) -> None:
    response = upload(consented.client, example_bytes("accounts_get"), "accounts.json")

    stored = DataUpload.objects.get(pk=response.json()["upload_id"])
    assert stored.status == "processed"
    assert stored.storage_key == f"uploads/{consented.user.id}/{stored.id}/accounts.json"
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    head = s3.head_object(Bucket=s3_default_storage, Key=stored.storage_key)
    assert head["ServerSideEncryption"] == "AES256"
    # Owners get no link; operators get a pre-signed one that works for five minutes.
    assert consented.client.get(f"{UPLOAD}/{stored.id}").json()["download_url"] is None
    url = (
        sign_in(OperatorFactory.create()).client.get(f"{UPLOAD}/{stored.id}").json()["download_url"]
    )
    assert "X-Amz-Expires=300" in url
    assert requests.get(url, timeout=10).content == example_bytes("accounts_get")


def test_erasure_deletes_the_s3_objects(
    consented: SignedIn, s3_default_storage: str, aws_endpoint: str
) -> None:
    upload(consented.client, example_bytes("accounts_get"))
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    prefix = f"uploads/{consented.user.id}/"
    assert s3.list_objects_v2(Bucket=s3_default_storage, Prefix=prefix)["KeyCount"] == 1

    consented.client.delete("/api/v1/users/me")

    assert s3.list_objects_v2(Bucket=s3_default_storage, Prefix=prefix)["KeyCount"] == 0


# --- the stored file: read as validated, or validated again -------------------------------

TRANSACTIONS_CSV = (
    b"account_id,transaction_id,date,amount,iso_currency_code,name\n"
    b"acc-1,tx-1,2026-10-01,12.50,USD,Coffee\n"
    b"acc-1,tx-2,2026-10-02,-2000,USD,Payroll\n"
)


def queued_csv(signed: SignedIn, content: bytes = TRANSACTIONS_CSV) -> DataUpload:
    """A valid transactions CSV accepted (its account uploaded first), not yet processed."""
    upload(signed.client, body(accounts=[account("acc-1")]))
    with mock.patch("uploads.services._enqueue"):
        response = upload(signed.client, content, "transactions.csv")
    assert response.status_code == HTTPStatus.ACCEPTED, response.json()
    return DataUpload.objects.get(pk=response.json()["upload_id"])


def validations(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The files the task validates from now on (each as it goes to ``_parse``)."""
    seen: list[bytes] = []
    real_parse = services._parse

    def counting(content: bytes, user: Any) -> Any:
        seen.append(content)
        return real_parse(content, user)

    monkeypatch.setattr(services, "_parse", counting)
    return seen


def test_the_bytes_validated_at_upload_are_ingested_without_validating_again(
    consented: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = queued_csv(consented)
    validated = validations(monkeypatch)

    process_upload.delay(str(queued.pk))

    queued.refresh_from_db()
    assert queued.validated_sha256 == queued.sha256
    assert validated == []
    assert queued.status == "processed"
    assert queued.counts["transactions"] == {"created": 2, "updated": 0, "removed": 0}
    assert sorted(
        Transaction.objects.filter(user=consented.user).values_list("transaction_id", "amount")
    ) == [("tx-1", Decimal("12.5000")), ("tx-2", Decimal("-2000.0000"))]


@pytest.mark.parametrize(
    "stored",
    [
        b"account_id,transaction_id,date,amount,iso_currency_code,name\n"
        b"ghost,tx-9,2026-10-01,12.50,USD,Coffee\n",
        b"account_id,transaction_id,date,amount,iso_currency_code,name\n"
        b"acc-1,tx-9,2026-10-01,twelve,USD,Coffee\n",
    ],
    ids=["an unknown account", "no number"],
)
def test_a_stored_file_changed_after_upload_is_validated_and_refused(
    consented: SignedIn, monkeypatch: pytest.MonkeyPatch, stored: bytes
) -> None:
    queued = queued_csv(consented)
    default_storage.delete(queued.storage_key)
    assert default_storage.save(queued.storage_key, ContentFile(stored)) == queued.storage_key
    validated = validations(monkeypatch)

    process_upload.delay(str(queued.pk))

    queued.refresh_from_db()
    assert validated == [stored]
    assert queued.status == "failed"
    assert queued.error.startswith("invalid: ")
    assert not Transaction.objects.filter(user=consented.user).exists()


def test_an_upload_without_the_validated_digest_is_validated_in_full(
    consented: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = queued_csv(consented)
    DataUpload.objects.filter(pk=queued.pk).update(validated_sha256="")
    validated = validations(monkeypatch)

    process_upload.delay(str(queued.pk))

    queued.refresh_from_db()
    assert validated == [TRANSACTIONS_CSV]
    assert queued.status == "processed"
    assert Transaction.objects.filter(user=consented.user).count() == 2


def test_a_rejected_upload_records_no_validated_digest(consented: SignedIn) -> None:
    response = upload(consented.client, TRANSACTIONS_CSV, "transactions.csv")  # no account

    assert response.status_code == HTTPStatus.BAD_REQUEST
    rejected = DataUpload.objects.get()
    assert (rejected.status, rejected.validated_sha256) == ("rejected", "")
