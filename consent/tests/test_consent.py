"""/consent: grant, read, revoke, and erasure of data on request."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from tests.support.clients import SignedIn, grant_consent, sign_in, upload
from tests.support.factories import UserFactory
from tests.support.plaid import example_bytes
from uploads.models import Account, DataUpload, Transaction

pytestmark = pytest.mark.django_db
CONSENT = "/api/v1/consent"


def test_grant(signed_in: SignedIn) -> None:
    response = signed_in.client.post(CONSENT, {})

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["granted"] is True
    assert body["version"] == settings.CONSENT_VERSION
    assert body["granted_at"] is not None
    assert body["revoked_at"] is None
    assert [(h["action"], h["version"]) for h in body["history"]] == [
        ("grant", settings.CONSENT_VERSION)
    ]
    signed_in.user.refresh_from_db()
    assert (signed_in.user.consent_status, signed_in.user.consent_version) == (
        "granted",
        settings.CONSENT_VERSION,
    )
    assert signed_in.client.get("/api/v1/users/me").json()["consent_status"] == "granted"
    assert (
        AuditEvent.objects.filter(action="consent.grant", actor_id=signed_in.user.id).count() == 1
    )


def test_grant_again_is_200_and_adds_nothing(consented: SignedIn) -> None:
    response = consented.client.post(CONSENT, {"version": settings.CONSENT_VERSION})

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["history"]) == 1


@pytest.mark.parametrize("version", ["2019-01-01", ""])
def test_grant_refuses_another_version(signed_in: SignedIn, version: str) -> None:
    response = signed_in.client.post(CONSENT, {"version": version})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "version"
    signed_in.user.refresh_from_db()
    assert signed_in.user.consent_status == "none"


def test_status_before_any_grant(signed_in: SignedIn) -> None:
    assert signed_in.client.get(CONSENT).json() == {
        "granted": False,
        "version": None,
        "granted_at": None,
        "revoked_at": None,
        "history": [],
    }


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


def test_revoke_rejects_a_bad_flag(consented: SignedIn) -> None:
    response = consented.client.delete(f"{CONSENT}?delete_data=perhaps")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "delete_data"
    consented.user.refresh_from_db()
    assert consented.user.consent_status == "granted"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_is_401(api_client: APIClient, method: str) -> None:
    assert getattr(api_client, method)(CONSENT).status_code == HTTPStatus.UNAUTHORIZED
