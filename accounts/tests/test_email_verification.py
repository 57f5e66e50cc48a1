"""Proving an email address: the link mailed on registration and on every change of email,
POST /auth/email/verify with its key, POST /auth/email/resend."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import EmailKey, User
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed, concurrently
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.support.mailbox import BAD_KEY, last_key, messages_to

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/auth/email/verify"
RESEND = "/api/v1/auth/email/resend"
ME = "/api/v1/users/me"


def register(client: APIClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    return dict(response.json())


def registered(client: APIClient) -> tuple[APIClient, str]:
    """Register ada@example.com: her signed-in client and the key mailed to verify her email."""
    body = register(client)
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    return signed_in, last_key("ada@example.com", "verify-email")


def test_registration_mails_a_link_that_verifies_the_email(api_client: APIClient) -> None:
    body = register(api_client)
    assert body["user"]["email_verified"] is False
    [message] = messages_to("ada@example.com")
    assert "http://localhost:3000/verify-email?key=" in message.body
    key = last_key("ada@example.com", "verify-email")

    response = api_client.post(VERIFY, {"key": key}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"email_verified": True}
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(ME).json()["email_verified"] is True


def test_a_used_key_is_refused(api_client: APIClient) -> None:
    register(api_client)
    key = last_key("ada@example.com", "verify-email")
    assert api_client.post(VERIFY, {"key": key}, format="json").status_code == HTTPStatus.OK

    response = api_client.post(VERIFY, {"key": key}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == BAD_KEY


@pytest.mark.parametrize("key", ["forged-key", "x" * 43, ""])
def test_a_forged_key_is_refused(api_client: APIClient, key: str) -> None:
    register(api_client)

    response = api_client.post(VERIFY, {"key": key}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    if key:
        assert response.json() == BAD_KEY
    else:
        assert response.json()["errors"][0]["attr"] == "key"
    assert not User.objects.get(email="ada@example.com").email_verified


def test_missing_key_is_400_naming_it(api_client: APIClient) -> None:
    response = api_client.post(VERIFY, {}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {"code": "required", "detail": "This field is required.", "attr": "key"}
    ]


def test_a_key_expires_after_three_days(api_client: APIClient) -> None:
    register(api_client)
    key = last_key("ada@example.com", "verify-email")
    later = timezone.now() + timedelta(days=3, seconds=1)

    with mock.patch("accounts.keys.timezone.now", return_value=later):
        response = api_client.post(VERIFY, {"key": key}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == BAD_KEY


def test_a_key_still_works_just_before_three_days(api_client: APIClient) -> None:
    register(api_client)
    key = last_key("ada@example.com", "verify-email")
    later = timezone.now() + timedelta(days=3, seconds=-60)

    with mock.patch("accounts.keys.timezone.now", return_value=later):
        response = api_client.post(VERIFY, {"key": key}, format="json")

    assert response.status_code == HTTPStatus.OK


def test_changing_email_makes_it_unverified_tells_the_old_address_and_kills_old_keys(
    api_client: APIClient,
) -> None:
    client, old_key = registered(api_client)
    client.post(VERIFY, {"key": old_key}, format="json")
    mail.outbox.clear()

    response = client.patch(
        ME, {"email": "new@example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["email_verified"] is False
    [notice] = messages_to("ada@example.com")
    assert notice.subject == "The email address of your SpendSense account was changed"
    assert "new@example.com" not in notice.body  # the old address learns nothing of the new
    new_key = last_key("new@example.com", "verify-email")
    assert client.post(VERIFY, {"key": new_key}, format="json").status_code == HTTPStatus.OK
    assert client.get(ME).json()["email_verified"] is True


def test_a_key_mailed_to_the_old_address_cannot_verify_the_new_one(
    api_client: APIClient,
) -> None:
    client, old_key = registered(api_client)
    client.patch(
        ME, {"email": "new@example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )

    response = api_client.post(VERIFY, {"key": old_key}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == BAD_KEY
    assert not User.objects.get(email="new@example.com").email_verified


def test_a_refused_email_change_mails_nothing(signed_in: SignedIn) -> None:
    UserFactory.create(email="taken@example.com")

    response = signed_in.client.patch(
        ME, {"email": "taken@example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert mail.outbox == []


def test_resend_mails_a_new_working_link(signed_in: SignedIn) -> None:
    response = signed_in.client.post(RESEND)

    assert response.status_code == HTTPStatus.ACCEPTED
    assert response.json() == {"detail": "A verification link is on its way."}
    key = last_key(signed_in.user.email or "", "verify-email")
    assert APIClient().post(VERIFY, {"key": key}, format="json").status_code == HTTPStatus.OK


def test_resend_needs_a_signed_in_caller(api_client: APIClient) -> None:
    response = api_client.post(RESEND)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert mail.outbox == []


def test_resend_once_verified_is_409(signed_in: SignedIn) -> None:
    with committed():
        User.objects.filter(pk=signed_in.user.pk).update(email_verified_at=timezone.now())

    response = signed_in.client.post(RESEND)

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "email_already_verified"
    assert mail.outbox == []


def test_resend_without_an_email_is_400(api_client: APIClient) -> None:
    with committed():
        phone_user = User.objects.create_user(phone_number="+14155550100")
    client = sign_in(phone_user).client

    response = client.post(RESEND)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {"code": "no_email", "detail": "Your account has no email address.", "attr": "email"}
    ]


def test_resend_is_throttled_per_user(signed_in: SignedIn, settings: Any) -> None:
    statuses = [signed_in.client.post(RESEND).status_code for _ in range(6)]

    assert statuses == [HTTPStatus.ACCEPTED] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert len(mail.outbox) == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_uses_of_one_key_verify_once() -> None:
    """Six simultaneous verifies of one key: exactly one succeeds (one conditional UPDATE)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions on one row")
    client = APIClient()
    register(client)
    key = last_key("ada@example.com", "verify-email")
    statuses = concurrently(
        6, lambda: APIClient().post(VERIFY, {"key": key}, format="json").status_code
    )

    assert sorted(statuses) == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * 5
    assert EmailKey.objects.filter(used_at__isnull=False).count() == 1
