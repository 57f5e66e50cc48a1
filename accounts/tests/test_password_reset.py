"""Password recovery: POST /auth/password/request and /auth/password/reset, and the notice
the owner gets whenever the password changes."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.support.mailbox import BAD_KEY, last_key, messages_to

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/auth/password/request"
RESET = "/api/v1/auth/password/reset"
NEW_PASSWORD = "a brand new passphrase 77"


def ask(email: str, client: APIClient | None = None) -> Any:
    return (client or APIClient()).post(REQUEST, {"email": email}, format="json")


def reset(key: str, password: str = NEW_PASSWORD) -> Any:
    return APIClient().post(RESET, {"key": key, "password": password}, format="json")


def test_known_and_unknown_emails_get_byte_identical_answers(user: User) -> None:
    known = ask(user.email or "")
    unknown = ask("nobody@example.com")

    assert known.status_code == unknown.status_code == HTTPStatus.ACCEPTED
    assert known.content == unknown.content
    assert known.json() == {"detail": "If an account has this email, a reset link is on its way."}
    skip = {"X-Request-ID"}
    assert {k: v for k, v in known.items() if k not in skip} == {
        k: v for k, v in unknown.items() if k not in skip
    }
    assert [m.to for m in mail.outbox] == [[user.email]]  # the mail goes only to the account


def test_the_mail_links_to_the_frontend(user: User) -> None:
    ask((user.email or "").upper())

    [message] = messages_to(user.email or "")
    assert message.subject == "Reset your SpendSense password"
    assert "http://localhost:3000/reset-password?key=" in message.body


def test_reset_sets_the_password_ends_every_session_and_verifies_the_email(
    signed_in: SignedIn,
) -> None:
    other_device = sign_in(signed_in.user)
    ask(signed_in.user.email or "")
    key = last_key(signed_in.user.email or "", "reset-password")
    mail.outbox.clear()

    response = reset(key)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"detail": "Your password is set. Sign in with it."}
    for session in (signed_in, other_device):
        assert session.client.get("/api/v1/users/me").status_code == HTTPStatus.UNAUTHORIZED
    user = User.objects.get(pk=signed_in.user.pk)
    assert user.check_password(NEW_PASSWORD)
    assert user.email_verified
    login = APIClient().post(
        "/api/v1/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == HTTPStatus.OK
    [notice] = messages_to(user.email or "")
    assert notice.subject == "Your SpendSense password was changed"


def test_a_key_works_once(user: User) -> None:
    ask(user.email or "")
    key = last_key(user.email or "", "reset-password")
    assert reset(key).status_code == HTTPStatus.OK

    again = reset(key, "yet another passphrase 88")

    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert again.json() == BAD_KEY
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_key_expires_after_an_hour(user: User) -> None:
    ask(user.email or "")
    key = last_key(user.email or "", "reset-password")
    later = timezone.now() + timedelta(hours=1, seconds=1)

    with mock.patch("accounts.keys.timezone.now", return_value=later):
        response = reset(key)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == BAD_KEY
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("key", ["forged", "A" * 43])
def test_a_forged_key_is_refused(user: User, key: str) -> None:
    ask(user.email or "")

    response = reset(key)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == BAD_KEY


def test_a_verification_key_is_no_reset_key(api_client: APIClient) -> None:
    api_client.post(
        "/api/v1/auth/register",
        {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    verify_key = last_key("ada@example.com", "verify-email")

    assert reset(verify_key).json() == BAD_KEY


def test_a_weak_password_is_400_and_leaves_the_key_usable(user: User) -> None:
    ask(user.email or "")
    key = last_key(user.email or "", "reset-password")

    weak = reset(key, "password")

    assert weak.status_code == HTTPStatus.BAD_REQUEST
    assert {e["attr"] for e in weak.json()["errors"]} == {"password"}
    assert reset(key).status_code == HTTPStatus.OK


def test_a_key_mailed_before_an_email_change_is_dead(signed_in: SignedIn) -> None:
    old_email = signed_in.user.email or ""
    ask(old_email)
    key = last_key(old_email, "reset-password")
    signed_in.client.patch(
        "/api/v1/users/me",
        {"email": "moved@example.com", "current_password": DEFAULT_PASSWORD},
        format="json",
    )

    assert reset(key).json() == BAD_KEY


def test_an_inactive_account_gets_no_mail() -> None:
    UserFactory.create(email="gone@example.com", is_active=False)

    assert ask("gone@example.com").status_code == HTTPStatus.ACCEPTED
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("url", "body", "attr"),
    [
        (REQUEST, {}, "email"),
        (REQUEST, {"email": "not-an-email"}, "email"),
        (RESET, {"password": NEW_PASSWORD}, "key"),
        (RESET, {"key": "k"}, "password"),
    ],
)
def test_bad_input_names_the_field(url: str, body: dict[str, str], attr: str) -> None:
    response = APIClient().post(url, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert attr in {e["attr"] for e in response.json()["errors"]}


def test_mails_per_address_are_capped_without_changing_the_answer(user: User) -> None:
    answers = [ask(user.email or "").content for _ in range(7)]

    assert len(set(answers)) == 1  # every answer 202 and the same
    assert len(messages_to(user.email or "")) == 5


def test_requests_per_ip_are_throttled() -> None:
    client = APIClient()
    statuses = [ask(f"u{i}@example.com", client).status_code for i in range(21)]

    assert statuses == [HTTPStatus.ACCEPTED] * 20 + [HTTPStatus.TOO_MANY_REQUESTS]


def test_a_password_change_through_the_api_tells_the_owner(signed_in: SignedIn) -> None:
    response = signed_in.client.patch(
        "/api/v1/users/me",
        {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    [notice] = messages_to(signed_in.user.email or "")
    assert notice.subject == "Your SpendSense password was changed"


def test_a_password_set_anywhere_tells_the_owner(user: User) -> None:
    """The console or a shell: a save, or a queryset update, of a new password."""
    with committed():
        user.set_password(NEW_PASSWORD)
        user.save()
    with committed():
        User.objects.filter(pk=user.pk).update(password="!unusable")

    assert len(messages_to(user.email or "")) == 2


def test_a_rehash_of_the_same_password_mails_nothing(user: User) -> None:
    with committed():
        user.check_password(DEFAULT_PASSWORD)
        user.save()

    assert mail.outbox == []
