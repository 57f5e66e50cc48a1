"""The console's door: counted sign-in attempts, the second factor, enrolment, the audit."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import pyotp
import pytest
from django.test import Client, override_settings

from accounts.models import AuditEvent, MfaDevice, User
from tests.support.clients import sign_in
from tests.support.factories.accounts import DEFAULT_PASSWORD, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
QUEUE = "/admin/recommendations/recommendation/"


def attempt(client: Client, email: str | None, password: str, ip: str = "203.0.113.9") -> Any:
    return client.post(
        LOGIN, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def signed_in_to_console(client: Client) -> bool:
    return client.get("/admin/").status_code == HTTPStatus.OK


def with_mfa(user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Turn the second factor on through the API, as the person would."""
    api = sign_in(user).client
    totp = pyotp.TOTP(api.post("/api/v1/auth/mfa/setup").json()["secret"])
    previous = totp.at(time.time() - totp.interval)  # the next code used must be newer
    codes = api.post("/api/v1/auth/mfa/activate", {"code": previous}).json()["recovery_codes"]
    return totp, codes


def at_the_code_step(client: Client) -> tuple[User, pyotp.TOTP]:
    """An operator with a second factor who has just given the right password."""
    operator = OperatorFactory.create()
    totp, _ = with_mfa(operator)
    attempt(client, operator.email, DEFAULT_PASSWORD)
    return operator, totp


def test_the_sixth_attempt_from_one_ip_is_refused_even_with_the_right_password(
    client: Client,
) -> None:
    operator = OperatorFactory.create()
    others = [OperatorFactory.create().email for _ in range(5)]

    wrong = [attempt(client, email, "wrong password").status_code for email in others]
    right = attempt(client, operator.email, DEFAULT_PASSWORD)

    assert wrong == [HTTPStatus.OK] * 5  # the form again, with its error
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many sign-in attempts" in right.content.decode()
    assert not signed_in_to_console(client)
    assert AuditEvent.objects.filter(action="console.login.failure").count() == 5
    throttled = AuditEvent.objects.get(action="console.login.throttled")
    assert throttled.actor_id == operator.id


def test_the_sixth_attempt_on_one_account_is_refused_from_any_ip(client: Client) -> None:
    operator = OperatorFactory.create()

    for n in range(5):
        attempt(client, operator.email, "wrong password", ip=f"198.51.100.{n}")
    right = attempt(client, operator.email, DEFAULT_PASSWORD, ip="192.0.2.77")

    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in_to_console(client)


def test_a_right_password_within_the_limit_signs_in_and_is_audited(client: Client) -> None:
    operator = OperatorFactory.create()

    response = attempt(client, operator.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"
    assert signed_in_to_console(client)
    event = AuditEvent.objects.get(action="console.login.success")
    assert (event.actor_id, event.details) == (operator.id, {"second_factor": False})


def test_a_person_without_staff_role_is_refused(client: Client) -> None:
    person = UserFactory.create()

    response = attempt(client, person.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.OK
    assert "staff account" in response.content.decode()
    assert not signed_in_to_console(client)
    assert AuditEvent.objects.get(action="console.login.failure").actor_id == person.id


@pytest.mark.parametrize("page", ["/admin/", QUEUE, "/admin/analytics/", "/admin/mfa/enrol/"])
def test_with_mfa_the_password_alone_reaches_no_console_page(client: Client, page: str) -> None:
    operator = OperatorFactory.create()
    with_mfa(operator)

    response = attempt(client, operator.email, DEFAULT_PASSWORD)
    visited = client.get(page)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/mfa/"
    assert visited.status_code == HTTPStatus.FOUND
    assert visited["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_the_code_completes_the_sign_in(client: Client) -> None:
    _, totp = at_the_code_step(client)

    wrong = client.post("/admin/mfa/", {"code": "000000"})
    right = client.post("/admin/mfa/", {"code": totp.now()})

    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert right.status_code == HTTPStatus.FOUND
    assert right["Location"] == "/admin/"
    assert client.get(QUEUE).status_code == HTTPStatus.OK
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"console.login.password_ok", "auth.mfa.failure", "console.login.success"} <= actions


def test_a_recovery_code_works_once(client: Client) -> None:
    operator = OperatorFactory.create()
    _, codes = with_mfa(operator)

    attempt(client, operator.email, DEFAULT_PASSWORD)
    first = client.post("/admin/mfa/", {"code": codes[0]})
    client.post("/admin/logout/")
    attempt(client, operator.email, DEFAULT_PASSWORD)
    again = client.post("/admin/mfa/", {"code": codes[0]})

    assert first.status_code == HTTPStatus.FOUND
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert not signed_in_to_console(client)


def test_five_wrong_codes_spend_the_challenge(client: Client) -> None:
    _, totp = at_the_code_step(client)

    for _ in range(5):
        client.post("/admin/mfa/", {"code": "000000"})
    sixth = client.post("/admin/mfa/", {"code": totp.now()})

    assert sixth.status_code == HTTPStatus.FOUND
    assert sixth["Location"] == LOGIN  # start again, with the password
    assert not signed_in_to_console(client)


def test_the_code_step_without_a_password_first_goes_back_to_the_login(client: Client) -> None:
    response = client.post("/admin/mfa/", {"code": "123456"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LOGIN


def test_a_console_session_from_before_mfa_was_turned_on_must_sign_in_again(
    client: Client,
) -> None:
    operator = OperatorFactory.create()
    client.force_login(operator)
    assert signed_in_to_console(client)

    with_mfa(operator)

    assert client.get(QUEUE)["Location"].startswith(LOGIN)


@override_settings(STAFF_MFA_REQUIRED=True)
def test_staff_without_a_second_factor_enrol_before_any_page(client: Client) -> None:
    operator = OperatorFactory.create()
    attempt(client, operator.email, DEFAULT_PASSWORD)

    sent_to = client.get(QUEUE)
    page = client.get("/admin/mfa/enrol/")
    secret = MfaDevice.objects.get(user=operator).secret
    assert page.context["secret"] == secret
    assert client.get("/admin/mfa/enrol/").context["secret"] == secret  # stable on reload
    totp = pyotp.TOTP(secret)
    done = client.post("/admin/mfa/enrol/", {"code": totp.now()})

    assert sent_to.status_code == HTTPStatus.FOUND
    assert sent_to["Location"] == "/admin/mfa/enrol/"
    assert done.status_code == HTTPStatus.OK
    assert len(done.context["recovery_codes"]) == 10
    assert client.get(QUEUE).status_code == HTTPStatus.OK
    assert (
        AuditEvent.objects.filter(action="console.mfa.enrolled", actor_id=operator.id).count() == 1
    )


@override_settings(STAFF_MFA_REQUIRED=True)
def test_a_wrong_enrolment_code_keeps_the_console_closed(client: Client) -> None:
    operator = OperatorFactory.create()
    attempt(client, operator.email, DEFAULT_PASSWORD)
    client.get("/admin/mfa/enrol/")

    response = client.post("/admin/mfa/enrol/", {"code": "000000"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert client.get(QUEUE)["Location"] == "/admin/mfa/enrol/"


def test_enrolment_is_not_required_in_development(client: Client) -> None:
    operator = OperatorFactory.create()
    attempt(client, operator.email, DEFAULT_PASSWORD)

    assert client.get(QUEUE).status_code == HTTPStatus.OK


def test_another_spelling_of_the_address_is_the_same_account(client: Client) -> None:
    """The database matches addresses case-insensitively (PostgreSQL's UPPER folds the
    dotless i, U+0131, to I); the count follows the account the address finds, not its spelling."""
    operator = OperatorFactory.create(email="alice.smith@example.com")

    for n in range(5):
        attempt(client, operator.email, "wrong password", ip=f"198.51.100.{n}")
    respelled = attempt(client, "ALICE.smith@example.com", DEFAULT_PASSWORD, ip="192.0.2.77")
    dotless = attempt(client, "al\u0131ce.smith@example.com", DEFAULT_PASSWORD, ip="192.0.2.78")

    assert respelled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert dotless.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in_to_console(client)


def test_a_new_authenticator_asks_for_its_code_again(client: Client) -> None:
    """A session that gave one device's code does not carry over to a device set up later."""
    operator, totp = at_the_code_step(client)
    client.post("/admin/mfa/", {"code": totp.now()})
    assert signed_in_to_console(client)

    MfaDevice.objects.filter(user=operator).delete()
    with_mfa(operator)

    assert client.get(QUEUE)["Location"].startswith(LOGIN)
