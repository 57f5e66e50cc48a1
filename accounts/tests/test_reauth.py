"""Re-authentication for what cannot be undone (accounts/reauth.py): each listed action needs
the current password, or a sign-in within the last 10 minutes; otherwise 403
``reauthentication_required``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Session, User
from tests.support.clients import sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import DEFAULT_PASSWORD, MfaDeviceFactory, UserFactory
from tests.support.providers import link_identity

pytestmark = pytest.mark.django_db

REFUSED = {
    "type": "client_error",
    "errors": [
        {
            "code": "reauthentication_required",
            "detail": (
                "Confirm it is you: send your current password as current_password, or sign "
                "in again and retry within 10 minutes."
            ),
            "attr": None,
        }
    ],
}


def _full_user(*, password: bool) -> User:
    """A user with something for every action: phone, Google, consent and data, MFA."""
    with committed():
        user = (
            UserFactory.create(phone_number="+14155550123")
            if password
            else User.objects.create_user(email="nopw@example.com", phone_number="+14155550123")
        )
        link_identity(user, "google", f"g-{user.pk}")
        MfaDeviceFactory.create(user=user)
        # Consent through the API (this app's tests import no app above it).
        granted = sign_in(user).client.post("/api/v1/consent", {}, format="json")
    assert granted.status_code == HTTPStatus.CREATED
    return user


def _delete(path: str) -> Callable[[APIClient, dict[str, str]], Any]:
    """DELETE ``path`` with the body as JSON."""
    return lambda c, body: c.delete(path, body, format="json")


# Each action: (call with a body, the status of success)
ACTIONS: dict[str, tuple[Callable[[APIClient, dict[str, str]], Any], int]] = {
    "delete_account": (_delete("/api/v1/users/me"), HTTPStatus.NO_CONTENT),
    "delete_data_with_consent": (_delete("/api/v1/consent?delete_data=true"), HTTPStatus.OK),
    "change_email": (
        lambda c, body: c.patch(
            "/api/v1/users/me", {"email": "moved@example.com", **body}, format="json"
        ),
        HTTPStatus.OK,
    ),
    "mfa_off": (
        lambda c, body: c.post(
            "/api/v1/auth/mfa/deactivate",
            {"password": body["current_password"]} if body else {},
            format="json",
        ),
        HTTPStatus.NO_CONTENT,
    ),
    "unlink_oauth": (_delete("/api/v1/auth/oauth/unlink/google"), HTTPStatus.OK),
    "unlink_phone": (_delete("/api/v1/auth/phone/unlink"), HTTPStatus.OK),
}


def _later() -> Any:
    """The clock 11 minutes after the sign-in: no longer "recent"."""
    return mock.patch(
        "accounts.reauth.timezone.now", return_value=timezone.now() + timedelta(minutes=11)
    )


@pytest.mark.parametrize("has_password", [True, False], ids=["password", "no_password"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_old_sign_in_without_the_password_is_403(action: str, has_password: bool) -> None:
    """Ten minutes after the sign-in, an account with a password must send it; one without a
    password cannot, and must sign in again."""
    call, _ = ACTIONS[action]
    signed = sign_in(_full_user(password=has_password))

    with _later():
        response = call(signed.client, {})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == REFUSED
    assert User.objects.filter(pk=signed.user.pk, email=signed.user.email).exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_wrong_password_is_403_even_just_after_sign_in(action: str) -> None:
    call, _ = ACTIONS[action]
    signed = sign_in(_full_user(password=True))

    response = call(signed.client, {"current_password": "not the password 123"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == REFUSED


@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_current_password_passes_however_old_the_sign_in(action: str) -> None:
    call, ok = ACTIONS[action]
    signed = sign_in(_full_user(password=True))

    with _later():
        response = call(signed.client, {"current_password": DEFAULT_PASSWORD})

    assert response.status_code == ok, response.content


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_account_without_a_password_passes_with_a_recent_sign_in(action: str) -> None:
    call, ok = ACTIONS[action]
    signed = sign_in(_full_user(password=False))

    response = call(signed.client, {})

    assert response.status_code == ok, response.content


def test_a_refresh_does_not_make_a_sign_in_recent() -> None:
    """Recent means the sign-in, not the last token: a session signed in 11 minutes ago and
    refreshed just now still needs the password."""
    signed = sign_in(_full_user(password=False))
    Session.objects.filter(user=signed.user).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    refreshed = APIClient().post("/api/v1/auth/refresh", {"refresh": signed.refresh}, format="json")
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")

    response = client.delete("/api/v1/users/me")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == REFUSED


def test_consent_revoke_without_erasure_needs_no_reauthentication() -> None:
    signed = sign_in(_full_user(password=True))

    with _later():
        response = signed.client.delete("/api/v1/consent")

    assert response.status_code == HTTPStatus.OK


def test_password_attempts_are_throttled_per_user() -> None:
    """A stolen access token is no password-guessing oracle: 10 attempts an hour, then 429
    even for the right password."""
    signed = sign_in(_full_user(password=True))
    delete, _ = ACTIONS["delete_account"]

    statuses = [
        delete(signed.client, {"current_password": f"guess number {i}"}).status_code
        for i in range(10)
    ]
    right = delete(signed.client, {"current_password": DEFAULT_PASSWORD})

    assert statuses == [HTTPStatus.FORBIDDEN] * 10
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert User.objects.filter(pk=signed.user.pk).exists()


def test_a_password_change_counts_against_the_same_limit() -> None:
    signed = sign_in(_full_user(password=True))
    for i in range(10):
        signed.client.patch(
            "/api/v1/users/me",
            {"password": "a brand new passphrase 9", "current_password": f"guess {i}"},
            format="json",
        )

    response = signed.client.patch(
        "/api/v1/users/me",
        {"password": "a brand new passphrase 9", "current_password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
