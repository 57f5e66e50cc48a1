"""What revoking consent does to a user's uploads: kept by default, erased on request
(consent announces the erasure, spendsense.events; this app erases)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.storage import default_storage

from tests.support.clients import SignedIn, sign_in, upload
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from tests.support.plaid import example_bytes
from uploads.models import Account, DataUpload, Transaction

pytestmark = pytest.mark.django_db
CONSENT = "/api/v1/consent"


def test_revoke_keeps_data_by_default(consented: SignedIn) -> None:
    upload(consented.client, example_bytes("accounts_get"))

    response = consented.client.delete(CONSENT)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["granted"] is False
    assert body["revoked_at"] is not None
    assert [h["action"] for h in body["history"]] == ["revoke", "grant"]
    assert Account.objects.filter(user=consented.user).count() == 3
    # Without consent, nothing more is uploaded.
    again = upload(consented.client, example_bytes("accounts_get"))
    assert again.status_code == HTTPStatus.FORBIDDEN
    assert again.json()["errors"][0]["code"] == "consent_required"


def test_revoke_with_delete_data_erases_files_and_rows(consented: SignedIn) -> None:
    other = sign_in(grant_consent(UserFactory.create()))
    upload(other.client, example_bytes("transactions_get"))
    response = upload(consented.client, example_bytes("transactions_get"))
    key = DataUpload.objects.get(pk=response.json()["upload_id"]).storage_key
    assert default_storage.exists(key)

    response = consented.client.delete(f"{CONSENT}?delete_data=true")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["history"][0]["data_deleted"] is True
    assert not default_storage.exists(key)
    # Nobody else's data: the other user keeps their upload, its account and two transactions.
    for model, kept in ((DataUpload, 1), (Account, 1), (Transaction, 2)):
        assert not model.objects.filter(user=consented.user).exists()
        assert model.objects.filter(user=other.user).count() == kept
