"""Register and login: validation, conflicts, no enumeration, bcrypt, throttles."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from rest_framework.test import APIClient

from accounts.audit import Action
from accounts.models import AuditEvent, Session, User
from accounts.sessions import services
from tests.support.errors import error_body
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
GOOD_PASSWORD = "plum-otter-skyline-42"


def errors(response: Any) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def test_register_creates_a_user_and_signs_them_in(api_client: APIClient) -> None:
    response = api_client.post(
        REGISTER,
        {"email": "New.User@Example.com", "password": GOOD_PASSWORD, "username": "newbie"},
        HTTP_USER_AGENT="ios/1.2",
    )

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert set(body) == {"user", "access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["user"]["email"] == "New.User@example.com"
    assert body["user"]["username"] == "newbie"
    assert body["user"]["roles"] == ["user"]
    session = Session.objects.get(user_id=body["user"]["id"])
    assert session.user_agent == "ios/1.2"
    assert session.ip == "127.0.0.1"
    assert session.refresh_token_hash != body["refresh"]  # only the hash is stored
    assert len(session.refresh_token_hash) == 64


def test_password_is_bcrypt_cost_12(api_client: APIClient) -> None:
    api_client.post(REGISTER, {"email": "hash@example.com", "password": GOOD_PASSWORD})

    stored = User.objects.get(email="hash@example.com").password
    assert identify_hasher(stored).algorithm == "bcrypt_sha256"
    assert stored.startswith("bcrypt_sha256$$2b$12$")
    assert check_password(GOOD_PASSWORD, stored)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"password": GOOD_PASSWORD}, [("required", "email")]),
        ({"email": "no-at-sign", "password": GOOD_PASSWORD}, [("invalid", "email")]),
        ({"email": "a@example.com"}, [("required", "password")]),
        ({"email": "a@example.com", "password": "short"}, [("password_too_short", "password")]),
        (
            {"email": "a@example.com", "password": "password123"},
            [("password_too_common", "password")],
        ),
        (
            {"email": "a@example.com", "password": "83749283749"},
            [("password_entirely_numeric", "password")],
        ),
        (
            {"email": "a@example.com", "password": GOOD_PASSWORD, "username": "has space"},
            [("invalid", "username")],
        ),
        (
            {"email": "x" * 250 + "@example.com", "password": GOOD_PASSWORD},
            [("max_length", "email")],
        ),
    ],
)
def test_register_rejects_bad_input(api_client: APIClient, payload: dict, expected: list) -> None:
    response = api_client.post(REGISTER, payload)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(expected) <= set(errors(response))
    assert not User.objects.exists()


def test_register_password_similar_to_email(api_client: APIClient) -> None:
    response = api_client.post(
        REGISTER, {"email": "harriet.jones@example.com", "password": "harriet.jones"}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert ("password_too_similar", "password") in errors(response)


def test_register_taken_email_is_409_case_insensitively(api_client: APIClient) -> None:
    UserFactory.create(email="taken@example.com")

    response = api_client.post(REGISTER, {"email": "TAKEN@example.com", "password": GOOD_PASSWORD})

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == error_body(
        "client_error", ("email_taken", "An account with this email already exists.", "email")
    )


def test_register_taken_username_is_409(api_client: APIClient) -> None:
    UserFactory.create(username="Ada")

    response = api_client.post(
        REGISTER, {"email": "other@example.com", "password": GOOD_PASSWORD, "username": "ada"}
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert errors(response) == [("username_taken", "username")]


def test_register_is_throttled_per_ip(api_client: APIClient) -> None:
    # Counted before validation, so probing with junk costs the same budget.
    statuses = [
        api_client.post(REGISTER, {}, REMOTE_ADDR="10.9.9.9").status_code for _ in range(21)
    ]

    assert statuses[:20] == [HTTPStatus.BAD_REQUEST] * 20
    assert statuses[20] == HTTPStatus.TOO_MANY_REQUESTS


def test_login_by_email_any_case(api_client: APIClient) -> None:
    user = UserFactory.create(email="ada@example.com")

    response = api_client.post(LOGIN, {"email": "ADA@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.OK
    assert set(response.json()) == {"access", "refresh", "token_type", "expires_in"}
    assert Session.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action=Action.LOGIN_SUCCESS, actor_id=user.id).count() == 1


def test_login_by_username(api_client: APIClient) -> None:
    UserFactory.create(username="grace")

    response = api_client.post(LOGIN, {"username": "Grace", "password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "payload",
    [
        {"password": DEFAULT_PASSWORD},
        {"email": "a@example.com", "username": "a", "password": DEFAULT_PASSWORD},
    ],
)
def test_login_needs_exactly_one_identifier(api_client: APIClient, payload: dict) -> None:
    response = api_client.post(LOGIN, payload)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert errors(response) == [("required", "email")]


def test_login_without_password(api_client: APIClient) -> None:
    response = api_client.post(LOGIN, {"email": "a@example.com"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert errors(response) == [("required", "password")]


def test_unknown_email_and_wrong_password_look_the_same(api_client: APIClient) -> None:
    user = UserFactory.create(email="known@example.com")
    inactive = UserFactory.create(email="gone@example.com", is_active=False)
    phone_only = User.objects.create_user(phone_number="+14155550199")

    with mock.patch("accounts.sessions.services.check_password", wraps=check_password) as hasher:
        unknown = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "whatever-1"})
    wrong = api_client.post(LOGIN, {"email": "known@example.com", "password": "whatever-1"})
    disabled = api_client.post(LOGIN, {"email": "gone@example.com", "password": DEFAULT_PASSWORD})

    expected = {
        "type": "client_error",
        "errors": [{"code": "invalid_credentials", "detail": "Invalid credentials.", "attr": None}],
    }
    for response in (unknown, wrong, disabled):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == expected
    assert unknown.content == wrong.content == disabled.content
    # The unknown email still paid for a bcrypt verification (similar timing).
    hasher.assert_called_once()
    assert identify_hasher(hasher.call_args.args[1]).algorithm == "bcrypt_sha256"
    assert phone_only.email is None
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILURE)
    assert failures.count() == 3
    assert set(failures.values_list("actor_id", flat=True)) == {None, user.id, inactive.id}


def test_sixth_login_from_one_ip_is_throttled_and_another_ip_is_not(api_client: APIClient) -> None:
    attempt = {"email": "nobody@example.com", "password": "wrong-password-1"}

    first_five = [
        api_client.post(LOGIN, attempt, REMOTE_ADDR="198.51.100.1").status_code for _ in range(5)
    ]
    sixth = api_client.post(LOGIN, attempt, REMOTE_ADDR="198.51.100.1")
    forged = api_client.post(
        LOGIN, attempt, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.50"
    )
    other_ip = api_client.post(LOGIN, attempt, REMOTE_ADDR="198.51.100.2")

    assert first_five == [HTTPStatus.UNAUTHORIZED] * 5
    assert sixth.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(sixth["Retry-After"]) <= 3600
    assert sixth.json()["errors"][0]["code"] == "throttled"
    assert forged.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert other_ip.status_code == HTTPStatus.UNAUTHORIZED


def test_dummy_hash_is_made_with_the_production_hasher() -> None:
    assert identify_hasher(services._dummy_password_hash()).algorithm == "bcrypt_sha256"
