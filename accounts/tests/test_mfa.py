"""TOTP second factor: setup, activation, sign-in end to end, recovery codes, limits."""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from typing import Any

import pyotp
import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, MfaDevice
from tests.support.clients import SignedIn
from tests.support.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/mfa/verify"


def activate(signed_in: SignedIn) -> tuple[pyotp.TOTP, list[str]]:
    setup = signed_in.client.post("/api/v1/auth/mfa/setup").json()
    totp = pyotp.TOTP(setup["secret"])
    # A code from the previous step: the next code the test sends must be newer.
    previous = totp.at(time.time() - totp.interval)
    codes = signed_in.client.post("/api/v1/auth/mfa/activate", {"code": previous}).json()[
        "recovery_codes"
    ]
    return totp, codes


def login(client: APIClient, email: str) -> Any:
    return client.post(LOGIN, {"email": email, "password": DEFAULT_PASSWORD})


def test_setup_gives_a_secret_and_an_otpauth_uri(signed_in: SignedIn) -> None:
    body = signed_in.client.post("/api/v1/auth/mfa/setup").json()

    assert len(body["secret"]) >= 16
    assert body["otpauth_uri"].startswith("otpauth://totp/SpendSense:")
    assert f"secret={body['secret']}" in body["otpauth_uri"]


def test_mfa_login_end_to_end(signed_in: SignedIn, api_client: APIClient) -> None:
    totp, codes = activate(signed_in)
    assert len(codes) == 10

    first = login(api_client, signed_in.user.email or "")
    assert first.status_code == HTTPStatus.OK
    assert set(first.json()) == {"mfa_required", "mfa_token"}
    done = api_client.post(VERIFY, {"mfa_token": first.json()["mfa_token"], "code": totp.now()})

    assert done.status_code == HTTPStatus.OK
    assert set(done.json()) == {"access", "refresh", "token_type", "expires_in"}
    assert signed_in.client.get("/api/v1/users/me").json()["sign_in_methods"]["mfa"] is True
    assert AuditEvent.objects.filter(action="auth.mfa.activate").count() == 1
    assert AuditEvent.objects.filter(action="auth.mfa.success").count() == 1


def test_a_totp_code_cannot_be_replayed_and_an_mfa_token_is_single_use(
    signed_in: SignedIn, api_client: APIClient
) -> None:
    totp, _ = activate(signed_in)
    token = login(api_client, signed_in.user.email or "").json()["mfa_token"]
    code = totp.now()
    assert api_client.post(VERIFY, {"mfa_token": token, "code": code}).status_code == HTTPStatus.OK

    reused_token = api_client.post(VERIFY, {"mfa_token": token, "code": code})
    fresh = login(api_client, signed_in.user.email or "").json()["mfa_token"]
    replayed_code = api_client.post(VERIFY, {"mfa_token": fresh, "code": code})

    assert reused_token.status_code == HTTPStatus.BAD_REQUEST
    assert reused_token.json()["errors"][0]["code"] == "mfa_token_invalid"
    assert replayed_code.status_code == HTTPStatus.BAD_REQUEST
    assert replayed_code.json()["errors"][0]["code"] == "invalid_mfa_code"


def test_recovery_codes_work_once(signed_in: SignedIn, api_client: APIClient) -> None:
    _, codes = activate(signed_in)

    first = api_client.post(
        VERIFY,
        {
            "mfa_token": login(api_client, signed_in.user.email or "").json()["mfa_token"],
            "code": codes[0],
        },
    )
    again = api_client.post(
        VERIFY,
        {
            "mfa_token": login(api_client, signed_in.user.email or "").json()["mfa_token"],
            "code": codes[0],
        },
    )

    assert first.status_code == HTTPStatus.OK
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert len(MfaDevice.objects.get(user=signed_in.user).recovery_code_hashes) == 9


def test_five_wrong_codes_void_the_mfa_token(signed_in: SignedIn, api_client: APIClient) -> None:
    totp, _ = activate(signed_in)
    token = login(api_client, signed_in.user.email or "").json()["mfa_token"]

    # Different addresses: the per-IP sign-in throttle (shared with login) is not what is tested.
    for n in range(5):
        api_client.post(VERIFY, {"mfa_token": token, "code": "000000"}, REMOTE_ADDR=f"10.1.0.{n}")
    sixth = api_client.post(
        VERIFY, {"mfa_token": token, "code": totp.now()}, REMOTE_ADDR="10.1.0.9"
    )

    assert sixth.status_code == HTTPStatus.BAD_REQUEST
    assert sixth.json()["errors"][0]["attr"] == "mfa_token"


@pytest.mark.parametrize("token", ["", "forged.token:value", "a" * 100])
def test_forged_mfa_tokens(api_client: APIClient, token: str) -> None:
    response = api_client.post(VERIFY, {"mfa_token": token, "code": "123456"})

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_activation_needs_a_right_code_and_setup_twice_is_409(signed_in: SignedIn) -> None:
    signed_in.client.post("/api/v1/auth/mfa/setup")
    wrong = signed_in.client.post("/api/v1/auth/mfa/activate", {"code": "000000"})
    activate(signed_in)
    again = signed_in.client.post("/api/v1/auth/mfa/setup")

    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert again.status_code == HTTPStatus.CONFLICT


def test_deactivation_needs_the_password(signed_in: SignedIn, api_client: APIClient) -> None:
    activate(signed_in)

    refused = signed_in.client.post("/api/v1/auth/mfa/deactivate", {"password": "wrong-password-1"})
    done = signed_in.client.post("/api/v1/auth/mfa/deactivate", {"password": DEFAULT_PASSWORD})

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["errors"][0]["code"] == "reauthentication_required"
    assert done.status_code == HTTPStatus.NO_CONTENT
    assert set(login(api_client, signed_in.user.email or "").json()) == {
        "access",
        "refresh",
        "token_type",
        "expires_in",
    }


@pytest.mark.parametrize("path", ["setup", "activate", "deactivate"])
def test_management_needs_a_bearer(api_client: APIClient, path: str) -> None:
    assert api_client.post(f"/api/v1/auth/mfa/{path}", {}).status_code == HTTPStatus.UNAUTHORIZED


def test_a_texted_code_alone_does_not_sign_in_an_mfa_account(
    signed_in: SignedIn, api_client: APIClient, settings: Any, tmp_path: Any
) -> None:
    """Every first factor ends in the one sign-in completion: the phone's too."""
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path
    totp, _ = activate(signed_in)
    signed_in.user.phone_number = "+14155550177"
    signed_in.user.save()
    assert (
        api_client.post("/api/v1/auth/phone/request", {"phone_number": "+14155550177"}).status_code
        == 202
    )
    [sent] = tmp_path.glob("*.txt")
    code = re.search(r"\b(\d{6})\b", sent.read_text().split("\n", 1)[1])
    assert code is not None

    answer = api_client.post(
        "/api/v1/auth/phone/verify", {"phone_number": "+14155550177", "code": code.group(1)}
    )

    assert answer.status_code == HTTPStatus.OK
    assert set(answer.json()) == {"mfa_required", "mfa_token"}
    done = api_client.post(VERIFY, {"mfa_token": answer.json()["mfa_token"], "code": totp.now()})
    assert done.status_code == HTTPStatus.OK
    assert "access" in done.json()
