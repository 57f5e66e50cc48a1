"""GET, PUT and DELETE /users/me."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.audit import Action
from accounts.models import AuditEvent, Session, User
from tests.support.clients import SignedIn, sign_in
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"
NEW_PASSWORD = "lantern-meadow-quartz-7"


def test_get(signed_in: SignedIn) -> None:
    user = signed_in.user

    response = signed_in.client.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "email_verified": False,
        "username": None,
        "phone_number": None,
        "role": "user",
        "roles": ["user"],
        "sign_in_methods": {"password": True, "phone": False, "oauth": [], "mfa": False},
        "consent_status": "none",
        "consent_version": None,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_anonymous_is_401(api_client: APIClient, method: str) -> None:
    response = getattr(api_client, method)(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_change_username_needs_no_password(signed_in: SignedIn) -> None:
    response = signed_in.client.put(ME, {"username": "ada_l"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["username"] == "ada_l"


def test_clear_username(signed_in: SignedIn) -> None:
    signed_in.client.put(ME, {"username": "ada_l"})

    response = signed_in.client.patch(ME, {"username": ""})

    assert response.json()["username"] is None


@pytest.mark.parametrize("current", [None, "wrong-password-1"])
def test_change_email_needs_reauthentication(signed_in: SignedIn, current: str | None) -> None:
    """A sign-in older than 10 minutes and no (or a wrong) password: 403."""
    payload = {"email": "new@example.com"} | ({"current_password": current} if current else {})
    later = timezone.now() + timedelta(minutes=11)

    with mock.patch("accounts.reauth.timezone.now", return_value=later):
        response = signed_in.client.put(ME, payload)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["errors"][0]["code"] == "reauthentication_required"
    signed_in.user.refresh_from_db()
    assert signed_in.user.email != "new@example.com"


def test_change_email(signed_in: SignedIn) -> None:
    response = signed_in.client.put(
        ME, {"email": "New@Example.com", "current_password": DEFAULT_PASSWORD}
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["email"] == "New@example.com"
    assert AuditEvent.objects.filter(action=Action.EMAIL_CHANGE).count() == 1


def test_change_email_to_a_taken_one_is_409(signed_in: SignedIn) -> None:
    UserFactory.create(email="taken@example.com")

    response = signed_in.client.put(
        ME, {"email": "TAKEN@example.com", "current_password": DEFAULT_PASSWORD}
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["attr"] == "email"


def test_change_username_to_a_taken_one_is_409(signed_in: SignedIn) -> None:
    UserFactory.create(username="grace")

    response = signed_in.client.put(ME, {"username": "GRACE"})

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "username_taken"


def test_bad_email_is_400(signed_in: SignedIn) -> None:
    response = signed_in.client.put(ME, {"email": "nope", "current_password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "email"


def test_change_password_ends_every_session_this_one_too(signed_in: SignedIn) -> None:
    phone = sign_in(signed_in.user)

    response = signed_in.client.put(
        ME, {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}
    )

    assert response.status_code == HTTPStatus.OK
    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert phone.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert set(
        Session.objects.filter(user=signed_in.user).values_list("revoke_reason", flat=True)
    ) == {"password_change"}
    signed_in.user.refresh_from_db()
    assert signed_in.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGE).count() == 1


def test_weak_new_password_is_400_and_changes_nothing(signed_in: SignedIn) -> None:
    response = signed_in.client.put(ME, {"password": "123", "current_password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert {e["attr"] for e in response.json()["errors"]} == {"password"}
    signed_in.user.refresh_from_db()
    assert signed_in.user.check_password(DEFAULT_PASSWORD)


def test_delete_erases_the_account_and_revokes_its_sessions(signed_in: SignedIn) -> None:
    user_id = signed_in.user.id
    other_device = sign_in(signed_in.user)

    response = signed_in.client.delete(ME)

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not User.objects.filter(pk=user_id).exists()
    assert not Session.objects.filter(user_id=user_id).exists()
    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert other_device.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    # The trail stays, pseudonymous.
    assert AuditEvent.objects.filter(action=Action.DELETE, actor_id=user_id).count() == 1
