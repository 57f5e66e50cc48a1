"""Password rules: 12 characters, Django's common/similarity/numeric validators, and Have I
Been Pwned's range API (recorded answers through ``responses``), failing open."""

from __future__ import annotations

import hashlib
import logging
from http import HTTPStatus
from typing import Any

import pytest
import requests
import responses
from rest_framework.test import APIClient

from accounts.models import User
from accounts.passwords import PWNED_RANGE_URL
from tests.support.commits import committed
from tests.support.mailbox import last_key

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def register(password: str, email: str = "ada@example.com") -> Any:
    return APIClient().post(REGISTER, {"email": email, "password": password}, format="json")


def codes(response: Any) -> set[tuple[str, str]]:
    return {(e["code"], e["attr"]) for e in response.json()["errors"]}


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


def range_body(*suffixes_and_counts: tuple[str, int]) -> str:
    """A Pwned Passwords range answer: ``SUFFIX:COUNT`` lines, padding lines with count 0."""
    lines = [f"{s}:{c}" for s, c in suffixes_and_counts]
    lines += ["0018A45C4D1DEF81644B54AB7F969B88D65:0", "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2"]
    return "\r\n".join(sorted(lines))


def test_eleven_characters_are_too_short() -> None:
    response = register("kettle-orbi")  # 11

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert ("password_too_short", "password") in codes(response)
    assert response.json()["errors"][0]["detail"] == (
        "This password is too short. It must contain at least 12 characters."
    )


def test_twelve_characters_are_enough() -> None:
    assert register("kettle-orbit").status_code == HTTPStatus.CREATED  # 12


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("qwerty123456", "password_too_common"),
        ("839274619283", "password_entirely_numeric"),
        ("ada.lovelace.example", "password_too_similar"),
    ],
)
def test_djangos_validators_apply(password: str, code: str) -> None:
    response = register(password, email="ada.lovelace@example.com")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert (code, "password") in codes(response)


def test_an_existing_shorter_password_still_signs_in() -> None:
    with committed():
        user = User.objects.create_user("old@example.com")
        user.set_password("short-pw")  # set before the 12-character rule, no validators
        user.save()

    response = APIClient().post(LOGIN, {"email": "old@example.com", "password": "short-pw"})

    assert response.status_code == HTTPStatus.OK


# --- Have I Been Pwned ------------------------------------------------------------------


@pytest.fixture
def breach_check(settings: Any) -> None:
    settings.PASSWORD_BREACH_CHECK = True


def test_a_breached_password_is_refused_and_only_five_hash_characters_leave(
    breach_check: None,
) -> None:
    password = "correct horse battery"  # 21 characters, passes Django's validators
    digest = sha1(password)
    with responses.RequestsMock() as rsps:
        rsps.get(PWNED_RANGE_URL + digest[:5], body=range_body((digest[5:], 3861)))

        response = register(password)

        [call] = rsps.calls
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert codes(response) == {("password_breached", "password")}
    assert call.request.url == f"https://api.pwnedpasswords.com/range/{digest[:5]}"
    assert digest[5:] not in str(call.request.url)
    assert call.request.body is None
    assert call.request.headers["Add-Padding"] == "true"
    assert not User.objects.exists()


def test_a_password_not_in_the_answer_is_accepted(breach_check: None) -> None:
    password = "a rare and long passphrase 9"
    digest = sha1(password)
    with responses.RequestsMock() as rsps:
        rsps.get(PWNED_RANGE_URL + digest[:5], body=range_body(("0" * 35, 12)))

        assert register(password).status_code == HTTPStatus.CREATED


def test_a_padding_line_with_count_zero_is_no_breach(breach_check: None) -> None:
    password = "another rare passphrase 7"
    digest = sha1(password)
    with responses.RequestsMock() as rsps:
        rsps.get(PWNED_RANGE_URL + digest[:5], body=range_body((digest[5:], 0)))

        assert register(password).status_code == HTTPStatus.CREATED


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("unreachable"), requests.Timeout("slow")],
)
def test_an_unreachable_service_fails_open_with_a_log_line(
    breach_check: None, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    password = "passphrase while offline 5"
    with responses.RequestsMock() as rsps, caplog.at_level(logging.WARNING, "accounts.passwords"):
        rsps.get(PWNED_RANGE_URL + sha1(password)[:5], body=failure)

        response = register(password)

    assert response.status_code == HTTPStatus.CREATED
    assert "password breach check unavailable; password accepted" in caplog.text


def test_a_server_error_fails_open(breach_check: None, caplog: pytest.LogCaptureFixture) -> None:
    password = "passphrase at a bad moment 4"
    with responses.RequestsMock() as rsps, caplog.at_level(logging.WARNING, "accounts.passwords"):
        rsps.get(PWNED_RANGE_URL + sha1(password)[:5], status=503)

        assert register(password).status_code == HTTPStatus.CREATED
    assert "password breach check unavailable" in caplog.text


def test_off_means_no_call_at_all(settings: Any) -> None:
    settings.PASSWORD_BREACH_CHECK = False
    with responses.RequestsMock() as rsps:  # any request would fail the test
        assert register("kettle-orbit").status_code == HTTPStatus.CREATED
        assert len(rsps.calls) == 0


def test_the_check_applies_to_a_reset_too(breach_check: None) -> None:
    with committed():
        User.objects.create_user("r@example.com", "an old passphrase 1")
    APIClient().post("/api/v1/auth/password/request", {"email": "r@example.com"})
    key = last_key("r@example.com", "reset-password")
    password = "correct horse battery"
    digest = sha1(password)
    with responses.RequestsMock() as rsps:
        rsps.get(PWNED_RANGE_URL + digest[:5], body=range_body((digest[5:], 10)))

        response = APIClient().post(
            "/api/v1/auth/password/reset", {"key": key, "password": password}
        )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert codes(response) == {("password_breached", "password")}
