"""/consent: grant, read, revoke. What a revocation does to uploads is tested above this app,
in uploads/tests/test_consent_revocation.py."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from tests.support.clients import SignedIn

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


def test_revoke_rejects_a_bad_flag(consented: SignedIn) -> None:
    response = consented.client.delete(f"{CONSENT}?delete_data=perhaps")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "delete_data"
    consented.user.refresh_from_db()
    assert consented.user.consent_status == "granted"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_is_401(api_client: APIClient, method: str) -> None:
    assert getattr(api_client, method)(CONSENT).status_code == HTTPStatus.UNAUTHORIZED
