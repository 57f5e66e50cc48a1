"""Phone sign-in: E.164 parsing, texted codes, their limits, linking and the last-method rule."""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from accounts.sms import SnsBackend
from spendsense.redis import redis_client
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import concurrently
from tests.support.providers import link_identity

pytestmark = pytest.mark.django_db
REQUEST = "/api/v1/auth/phone/request"
VERIFY = "/api/v1/auth/phone/verify"
PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def sms_files(settings: Any, tmp_path: Path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return tmp_path / "sms"


def texts(folder: Path) -> list[tuple[str, str]]:
    """(to, code) of every message sent, oldest first."""
    messages = []
    for path in sorted(folder.glob("*.txt")) if folder.exists() else []:
        first, body = path.read_text().split("\n", 1)
        code = re.search(r"\b(\d{6})\b", body)
        messages.append((first.removeprefix("To: "), code.group(1) if code else ""))
    return messages


def request_code(client: APIClient, phone: str = PHONE, **extra: Any) -> Any:
    return client.post(REQUEST, {"phone_number": phone}, **extra)


def verify_code(client: APIClient, code: str) -> Any:
    """Sign in with ``code`` texted to PHONE."""
    return client.post(VERIFY, {"phone_number": PHONE, "code": code})


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+14155550123", "+14155550123"),
        ("+1 415 555 0123", "+14155550123"),
        ("+1-415-555-0123", "+14155550123"),
        ("+1 (415) 555.0123", "+14155550123"),
        (" +14155550123 ", "+14155550123"),
    ],
)
def test_e164_accepted_forms(
    api_client: APIClient, sms_files: Path, raw: str, normalized: str
) -> None:
    response = request_code(api_client, raw)

    assert response.status_code == HTTPStatus.ACCEPTED
    assert texts(sms_files)[0][0] == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "4155550123",
        "(415) 555-0123",
        "+1415",
        "+1 800 FLOWERS",
        "+14155550123abc",
        "",
        "+999999999999",
        "not a number",
    ],
    ids=[
        "national",
        "national-formatted",
        "too-short",
        "letters",
        "trailing-letters",
        "empty",
        "no-such-country",
        "words",
    ],
)
def test_e164_rejected_forms(api_client: APIClient, sms_files: Path, raw: str) -> None:
    response = request_code(api_client, raw)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "phone_number"
    assert texts(sms_files) == []


def test_same_answer_for_known_and_unknown_numbers(api_client: APIClient) -> None:
    User.objects.create_user(phone_number=PHONE)

    known = request_code(api_client, PHONE)
    unknown = request_code(api_client, "+14155550124")

    assert known.status_code == unknown.status_code == HTTPStatus.ACCEPTED
    assert known.content == unknown.content


def test_verify_registers_a_phone_only_user_then_signs_them_in(
    api_client: APIClient, sms_files: Path
) -> None:
    request_code(api_client)
    first = verify_code(api_client, texts(sms_files)[-1][1])
    request_code(api_client)
    second = api_client.post(
        VERIFY, {"phone_number": "+1 415 555 0123", "code": texts(sms_files)[-1][1]}
    )

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert set(first.json()) == {"access", "refresh", "token_type", "expires_in"}
    user = User.objects.get(phone_number=PHONE)
    assert user.email is None
    assert not user.has_usable_password()
    assert User.objects.count() == 1
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {second.json()['access']}")
    assert me.get("/api/v1/users/me").json()["sign_in_methods"] == {
        "password": False,
        "phone": True,
        "oauth": [],
        "mfa": False,
    }
    assert (
        AuditEvent.objects.filter(action="user.register", details={"method": "phone"}).count() == 1
    )
    assert not AuditEvent.objects.filter(details__icontains="4155550123").exists()


def test_a_code_is_single_use(api_client: APIClient, sms_files: Path) -> None:
    request_code(api_client)
    code = texts(sms_files)[-1][1]

    assert verify_code(api_client, code).status_code == HTTPStatus.OK
    reused = verify_code(api_client, code)

    assert reused.status_code == HTTPStatus.BAD_REQUEST
    assert reused.json()["errors"][0]["code"] == "invalid_code"


def test_wrong_codes_then_the_sixth_try_is_refused_even_when_right(
    api_client: APIClient, sms_files: Path
) -> None:
    request_code(api_client)
    code = texts(sms_files)[-1][1]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    statuses = [verify_code(api_client, wrong).status_code for _ in range(5)]
    sixth = verify_code(api_client, code)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 5
    assert sixth.status_code == HTTPStatus.BAD_REQUEST
    assert not User.objects.exists()


def test_a_new_code_replaces_the_old(api_client: APIClient, sms_files: Path) -> None:
    request_code(api_client)
    old = texts(sms_files)[-1][1]
    request_code(api_client)
    new = texts(sms_files)[-1][1]

    if old != new:
        assert verify_code(api_client, old).status_code == HTTPStatus.BAD_REQUEST
    assert verify_code(api_client, new).status_code == HTTPStatus.OK


def test_codes_expire(api_client: APIClient, sms_files: Path, settings: Any) -> None:
    settings.SMS_CODE_TTL_SECONDS = 1
    request_code(api_client)
    time.sleep(1.5)

    response = verify_code(api_client, texts(sms_files)[-1][1])

    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef"])
def test_malformed_codes(api_client: APIClient, code: str) -> None:
    response = verify_code(api_client, code)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "code"


def test_sixth_request_for_one_number_is_throttled_and_sends_nothing(
    api_client: APIClient, sms_files: Path
) -> None:
    statuses = [request_code(api_client, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(6)]

    assert statuses == [HTTPStatus.ACCEPTED] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert len(texts(sms_files)) == 5


def test_per_ip_cap_across_numbers(api_client: APIClient, sms_files: Path) -> None:
    statuses = [request_code(api_client, f"+1415555{n:04d}").status_code for n in range(100, 121)]

    assert statuses[:20] == [HTTPStatus.ACCEPTED] * 20
    assert statuses[20] == HTTPStatus.TOO_MANY_REQUESTS
    assert len(texts(sms_files)) == 20


def test_numbers_outside_the_allowed_regions_get_the_same_202_and_no_text(
    api_client: APIClient, sms_files: Path
) -> None:
    response = request_code(api_client, "+442071838750")  # a London number; US and CA allowed

    assert response.status_code == HTTPStatus.ACCEPTED
    assert texts(sms_files) == []


def test_daily_budget(api_client: APIClient, sms_files: Path, settings: Any) -> None:
    settings.SMS_DAILY_BUDGET = 2
    api_client.raise_request_exception = False
    statuses = [request_code(api_client, f"+1415555{n:04d}").status_code for n in range(200, 203)]

    assert statuses == [HTTPStatus.ACCEPTED, HTTPStatus.ACCEPTED, HTTPStatus.SERVICE_UNAVAILABLE]
    assert len(texts(sms_files)) == 2


def test_link_and_unlink(signed_in: SignedIn, sms_files: Path) -> None:
    request_code(signed_in.client)
    code = texts(sms_files)[-1][1]

    linked = signed_in.client.post("/api/v1/auth/phone/link", {"phone_number": PHONE, "code": code})
    unlinked = signed_in.client.delete("/api/v1/auth/phone/unlink")

    assert linked.status_code == HTTPStatus.OK
    assert linked.json()["phone_number"] == PHONE
    assert unlinked.status_code == HTTPStatus.OK
    assert unlinked.json()["phone_number"] is None
    assert AuditEvent.objects.filter(action="auth.phone.link").count() == 1
    assert AuditEvent.objects.filter(action="auth.phone.unlink").count() == 1


def test_link_someone_elses_number_is_409(signed_in: SignedIn, sms_files: Path) -> None:
    User.objects.create_user(phone_number=PHONE)
    request_code(signed_in.client)

    response = signed_in.client.post(
        "/api/v1/auth/phone/link", {"phone_number": PHONE, "code": texts(sms_files)[-1][1]}
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "phone_taken"


def test_the_last_way_to_sign_in_cannot_be_removed(api_client: APIClient) -> None:
    phone_only = sign_in(User.objects.create_user(phone_number=PHONE))

    response = phone_only.client.delete("/api/v1/auth/phone/unlink")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "last_sign_in_method"
    assert User.objects.get(pk=phone_only.user.pk).phone_number == PHONE


def test_link_and_unlink_need_a_bearer(api_client: APIClient) -> None:
    assert api_client.post("/api/v1/auth/phone/link", {}).status_code == HTTPStatus.UNAUTHORIZED
    assert api_client.delete("/api/v1/auth/phone/unlink").status_code == HTTPStatus.UNAUTHORIZED


def test_sns_backend_publishes_through_sns(aws_endpoint: str, settings: Any) -> None:
    settings.AWS_SNS_ENDPOINT_URL = aws_endpoint

    SnsBackend().send(to="+14155550199", body="Your SpendSense code is 424242.")

    sent = requests.get(f"{aws_endpoint}/moto-api/data.json", timeout=10).json()["sns"]["SMS"]
    assert {
        "phone_number": "+14155550199",
        "message": "Your SpendSense code is 424242.",
    }.items() <= next(m for m in sent if m["phone_number"] == "+14155550199").items()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_six_simultaneous_verifies_of_one_code_give_exactly_one_success(
    sms_files: Path,
) -> None:
    """The code is taken by one atomic compare-and-delete in Redis (a Lua script)."""
    if redis_client() is None:
        pytest.skip("needs Redis: the race is between processes sharing it")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions (SQLite test DB is in memory)")
    assert request_code(APIClient()).status_code == HTTPStatus.ACCEPTED
    code = texts(sms_files)[-1][1]
    statuses = concurrently(
        6, lambda: APIClient().post(VERIFY, {"phone_number": PHONE, "code": code}).status_code
    )

    assert sorted(statuses) == [HTTPStatus.OK] + [HTTPStatus.BAD_REQUEST] * 5
    assert User.objects.filter(phone_number=PHONE).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_removing_phone_and_provider_at_once_keeps_one_way_to_sign_in() -> None:
    """Both removals lock the user row: the second sees the first's change and answers 409."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions (SQLite test DB is in memory)")
    user = link_identity(User.objects.create_user(phone_number=PHONE), "google", "uid-1")
    access = sign_in(user).access
    paths = iter(["/api/v1/auth/phone/unlink", "/api/v1/auth/oauth/unlink/google"])
    chosen = [next(paths), next(paths)]

    def remove() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client.delete(chosen.pop()).status_code

    statuses = concurrently(2, remove)

    assert sorted(statuses) == [HTTPStatus.OK, HTTPStatus.CONFLICT]
    kept = User.objects.get(pk=user.pk)
    assert bool(kept.phone_number) != bool(kept.linked_providers)
