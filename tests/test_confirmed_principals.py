"""Only confirmed principals spend a user's rate limit; refused credentials spend their IP's
anonymous budget instead. And every private answer is ``Cache-Control: no-store``."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from spendsense.api.throttles import AnonRateThrottle, UserRateThrottle
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ME = "/api/v1/users/me"
SIGNALS = "/api/v1/users/me/signals"


def user_count(user_id: Any) -> int:
    """How much of the hour's budget the user has spent (the throttle's own counter)."""
    throttle = UserRateThrottle()
    key = throttle.cache_format % {"scope": throttle.scope, "ident": str(user_id)}
    counter, _ = throttle.window(key)
    return int(cache.get(counter) or 0)


def ip_count(ip: str) -> int:
    throttle = AnonRateThrottle()
    counter, _ = throttle.window(throttle.cache_format % {"scope": "anon", "ident": ip})
    return int(cache.get(counter) or 0)


@pytest.mark.parametrize("path", [ME, SIGNALS])
def test_requests_with_a_logged_out_token_leave_the_budget_untouched(
    consented: SignedIn, path: str
) -> None:
    stale = consented.access
    assert consented.client.get(path).status_code == HTTPStatus.OK
    assert (
        consented.client.post("/api/v1/auth/logout", {"refresh": consented.refresh}).status_code
        == 204
    )
    spent = user_count(consented.user.id)
    attacker = APIClient()
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {stale}")

    statuses = {attacker.get(path, REMOTE_ADDR="198.51.100.4").status_code for _ in range(45)}

    assert statuses == {HTTPStatus.UNAUTHORIZED}
    assert user_count(consented.user.id) == spent
    assert ip_count("198.51.100.4") == 45  # counted against the caller's address instead
    fresh = sign_in(consented.user)
    assert fresh.client.get(path).status_code == HTTPStatus.OK


def test_a_revoked_session_spends_nothing_either(consented: SignedIn) -> None:
    from accounts.models import Session
    from accounts.sessions.services import session_revoke

    with committed():
        session_revoke(session=Session.objects.get(user=consented.user), reason="test")
    spent = user_count(consented.user.id)

    for _ in range(10):
        assert consented.client.get(SIGNALS).status_code == HTTPStatus.UNAUTHORIZED

    assert user_count(consented.user.id) == spent


def test_refused_credentials_are_throttled_by_ip(settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/hour", "user": None})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer forged.token.value")

    statuses = [client.get(ME, REMOTE_ADDR="203.0.113.50").status_code for _ in range(5)]

    assert statuses == [401, 401, 401, 429, 429]


def test_confirmed_requests_still_count(signed_in: SignedIn) -> None:
    before = user_count(signed_in.user.id)

    for _ in range(3):
        assert signed_in.client.get(ME).status_code == HTTPStatus.OK

    assert user_count(signed_in.user.id) == before + 3


# --- Cache-Control: no-store --------------------------------------------------------------


def test_token_answers_and_private_reads_are_no_store(consented: SignedIn) -> None:
    anonymous = APIClient()
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    answers = {
        "register": anonymous.post(
            "/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD}
        ),
        "login": anonymous.post(
            "/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD}
        ),
        "refresh": anonymous.post("/api/v1/auth/refresh", {"refresh": consented.refresh}),
        "me": consented.client.get(ME),
        "signals (full)": consented.client.get(SIGNALS),
        "signals (cached)": consented.client.get(SIGNALS),
        "consent": consented.client.get("/api/v1/consent"),
        "uploads": consented.client.get("/api/v1/data/upload"),
        "401": anonymous.get(ME),
        "404": consented.client.get("/api/v1/nothing-here"),
    }

    for name, response in answers.items():
        assert response.status_code < 500, name
        assert response["Cache-Control"] == "no-store", name


def test_public_key_material_stays_cacheable() -> None:
    response = APIClient().get("/.well-known/jwks.json")

    assert response["Cache-Control"] == "public, max-age=300"


def test_a_user_by_id_that_does_not_exist_is_no_store_too(consented: SignedIn) -> None:
    response = consented.client.get(f"/api/v1/users/{uuid.uuid4()}/profile")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Cache-Control"] == "no-store"


def test_a_new_user_spends_nothing_of_anyone_elses_budget() -> None:
    victim = sign_in(UserFactory.create())
    other = sign_in(UserFactory.create())
    before = user_count(victim.user.id)

    other.client.get(ME)

    assert user_count(victim.user.id) == before
