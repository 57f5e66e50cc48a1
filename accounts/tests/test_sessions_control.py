"""Sessions a person controls: GET /auth/sessions, DELETE /auth/sessions/{id},
DELETE /auth/sessions, and the absolute lifetime (SESSION_MAX_DAYS) refreshing never extends."""

from __future__ import annotations

import uuid
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import Session, User
from tests.support.clients import SignedIn, sign_in
from tests.support.factories.accounts import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/auth/sessions"
ME = "/api/v1/users/me"


def refresh(token: str) -> Any:
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def test_list_shows_own_live_sessions_and_which_is_current(signed_in: SignedIn) -> None:
    other_device = sign_in(signed_in.user)
    ended = sign_in(signed_in.user)
    ended.client.post("/api/v1/auth/logout", {"refresh": ended.refresh}, format="json")
    sign_in(UserFactory.create())  # someone else's

    response = signed_in.client.get(SESSIONS)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["count"] == 2
    rows = {row["id"]: row for row in body["results"]}
    current = Session.objects.get(pk=next(r for r in rows.values() if r["current"])["id"])
    assert current.user_id == signed_in.user.id
    assert sum(r["current"] for r in rows.values()) == 1
    assert set(next(iter(rows.values()))) == {
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip",
        "user_agent",
        "current",
    }
    assert all(r["user_agent"] == "pytest" for r in rows.values())
    del other_device


def test_ending_one_session_kills_its_access_and_refresh_tokens(signed_in: SignedIn) -> None:
    other = sign_in(signed_in.user)
    other_id = next(
        r["id"] for r in signed_in.client.get(SESSIONS).json()["results"] if not r["current"]
    )

    response = signed_in.client.delete(f"{SESSIONS}/{other_id}")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert other.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert refresh(other.refresh).status_code == HTTPStatus.UNAUTHORIZED
    assert signed_in.client.get(ME).status_code == HTTPStatus.OK


def test_another_users_session_is_404_and_stays_alive(signed_in: SignedIn) -> None:
    victim = sign_in(UserFactory.create())
    victim_session = Session.objects.get(user=victim.user)

    response = signed_in.client.delete(f"{SESSIONS}/{victim_session.id}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "session_not_found", "detail": "No such session.", "attr": None}],
    }
    assert victim.client.get(ME).status_code == HTTPStatus.OK


def test_an_operator_cannot_end_a_users_session() -> None:
    operator = sign_in(OperatorFactory.create())
    victim = sign_in(UserFactory.create())

    response = operator.client.delete(f"{SESSIONS}/{Session.objects.get(user=victim.user).id}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert victim.client.get(ME).status_code == HTTPStatus.OK


@pytest.mark.parametrize("session_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_or_malformed_id_is_404(signed_in: SignedIn, session_id: str) -> None:
    assert signed_in.client.delete(f"{SESSIONS}/{session_id}").status_code == HTTPStatus.NOT_FOUND


def test_an_ended_session_is_404(signed_in: SignedIn) -> None:
    other = sign_in(signed_in.user)
    other_id = str(Session.objects.exclude(pk=_current_id(signed_in)).get(user=signed_in.user).id)
    assert signed_in.client.delete(f"{SESSIONS}/{other_id}").status_code == 204

    assert signed_in.client.delete(f"{SESSIONS}/{other_id}").status_code == HTTPStatus.NOT_FOUND
    del other


def _current_id(signed_in: SignedIn) -> str:
    rows = signed_in.client.get(SESSIONS).json()["results"]
    return str(next(r["id"] for r in rows if r["current"]))


def test_ending_the_current_session_signs_the_caller_out(signed_in: SignedIn) -> None:
    response = signed_in.client.delete(f"{SESSIONS}/{_current_id(signed_in)}")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_end_every_other_session(signed_in: SignedIn) -> None:
    others = [sign_in(signed_in.user) for _ in range(3)]
    stranger = sign_in(UserFactory.create())

    response = signed_in.client.delete(SESSIONS)

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert all(o.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED for o in others)
    assert signed_in.client.get(ME).status_code == HTTPStatus.OK
    assert stranger.client.get(ME).status_code == HTTPStatus.OK
    assert signed_in.client.get(SESSIONS).json()["count"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", SESSIONS), ("delete", SESSIONS), ("delete", f"{SESSIONS}/{uuid.uuid4()}")],
)
def test_anonymous_is_401(api_client: APIClient, method: str, path: str) -> None:
    assert getattr(api_client, method)(path).status_code == HTTPStatus.UNAUTHORIZED


def test_an_api_key_has_no_session_to_manage() -> None:
    _, key = APIKey.objects.create_key(name="ops")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    response = client.delete(SESSIONS)

    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)


def test_refresh_never_extends_a_session_past_its_absolute_lifetime(
    user: User, settings: Any
) -> None:
    settings.SESSION_MAX_DAYS = 90
    session = sign_in(user)
    started = Session.objects.get(user=user).created_at
    token = session.refresh

    def at(days: float) -> Any:
        return mock.patch(
            "accounts.sessions.services.timezone.now", return_value=started + timedelta(days=days)
        )

    for day in (25, 50, 75):  # each refresh inside the 30-day sliding window
        with at(day):
            response = refresh(token)
        assert response.status_code == HTTPStatus.OK, (day, response.content)
        token = response.json()["refresh"]
    row = Session.objects.get(user=user)
    assert row.expires_at == started + timedelta(days=90)  # not day 75 + 30

    with at(89.9):
        response = refresh(token)
    assert response.status_code == HTTPStatus.OK
    token = response.json()["refresh"]
    assert Session.objects.get(user=user).expires_at == started + timedelta(days=90)

    with at(90 + 1 / 86400):
        assert refresh(token).status_code == HTTPStatus.UNAUTHORIZED


def test_a_new_session_never_outlives_the_absolute_lifetime(user: User, settings: Any) -> None:
    settings.SESSION_MAX_DAYS = 7  # shorter than the 30-day refresh window
    sign_in(user)

    row = Session.objects.get(user=user)

    assert row.expires_at - row.created_at <= timedelta(days=7)
    assert row.expires_at > timezone.now() + timedelta(days=6)
