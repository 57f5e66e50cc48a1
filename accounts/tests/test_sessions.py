"""Refresh rotation, reuse detection, concurrency, logout, revocation and purging."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.audit import Action
from accounts.models import AuditEvent, Session
from accounts.sessions.services import sessions_revoke_all
from accounts.users.services import user_set_role
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def refresh(token: str) -> tuple[int, dict]:
    response = APIClient().post(REFRESH, {"refresh": token})
    return response.status_code, response.json()


def test_refresh_rotates(signed_in: SignedIn) -> None:
    status, body = refresh(signed_in.refresh)

    assert status == HTTPStatus.OK
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["refresh"] != signed_in.refresh
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(ME).status_code == HTTPStatus.OK
    assert refresh(body["refresh"])[0] == HTTPStatus.OK  # the new one works once too


def test_reuse_of_a_rotated_token_revokes_the_whole_session(signed_in: SignedIn) -> None:
    _, rotated = refresh(signed_in.refresh)

    status, body = refresh(signed_in.refresh)  # the attacker's (or a stale) copy

    assert status == HTTPStatus.UNAUTHORIZED
    assert body["errors"][0]["code"] == "token_not_valid"
    session = Session.objects.get(user=signed_in.user)
    assert session.revoked_at is not None
    assert session.revoke_reason == "refresh_token_reuse"
    # Everything of that session is dead: the newest refresh token and every access token.
    assert refresh(rotated["refresh"])[0] == HTTPStatus.UNAUTHORIZED
    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    event = AuditEvent.objects.get(action=Action.REFRESH_REUSE)
    assert event.actor_id == signed_in.user.id
    assert event.target_id == str(session.id)


@pytest.mark.parametrize("token", ["", "x" * 257, "never-issued-token"])
def test_refresh_rejects_unknown_or_malformed(api_client: APIClient, token: str) -> None:
    response = api_client.post(REFRESH, {"refresh": token})

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    if response.status_code == HTTPStatus.BAD_REQUEST:
        assert response.json()["errors"][0]["attr"] == "refresh"


def test_refresh_without_body(api_client: APIClient) -> None:
    response = api_client.post(REFRESH, {})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {"code": "required", "detail": "This field is required.", "attr": "refresh"}
    ]


def test_expired_session_cannot_refresh(signed_in: SignedIn) -> None:
    Session.objects.filter(user=signed_in.user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert refresh(signed_in.refresh)[0] == HTTPStatus.UNAUTHORIZED


def test_inactive_user_cannot_refresh(signed_in: SignedIn) -> None:
    signed_in.user.is_active = False
    signed_in.user.save()

    assert refresh(signed_in.refresh)[0] == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_concurrent_refreshes_of_one_token_give_at_most_one_success() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: concurrent transactions on one row (SQLite test DB is in memory)"
        )
    session = sign_in(UserFactory.create())
    barrier = threading.Barrier(10)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            status, _ = refresh(session.refresh)
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == 10
    assert statuses.count(HTTPStatus.OK) <= 1
    assert set(statuses) <= {HTTPStatus.OK, HTTPStatus.UNAUTHORIZED}


def test_logout_kills_the_access_token_and_the_session(signed_in: SignedIn) -> None:
    response = signed_in.client.post(LOGOUT, {"refresh": signed_in.refresh})

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert refresh(signed_in.refresh)[0] == HTTPStatus.UNAUTHORIZED
    assert Session.objects.get(user=signed_in.user).revoke_reason == "logout"
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor_id=signed_in.user.id).count() == 1


def test_logout_denies_the_jti_even_if_the_session_state_were_stale(signed_in: SignedIn) -> None:
    from django.core.cache import cache

    from spendsense.coherence import session_state_key

    signed_in.client.post(LOGOUT, {"refresh": signed_in.refresh})
    session = Session.objects.get(user=signed_in.user)
    cache.set(session_state_key(session.id), "1")  # pretend the cache still says "live"

    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_logout_requires_a_bearer(api_client: APIClient, signed_in: SignedIn) -> None:
    response = api_client.post(LOGOUT, {"refresh": signed_in.refresh})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert Session.objects.get(user=signed_in.user).revoked_at is None


def test_logout_with_someone_elses_refresh_token(signed_in: SignedIn) -> None:
    other = sign_in(UserFactory.create())

    response = signed_in.client.post(LOGOUT, {"refresh": other.refresh})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "refresh"
    assert Session.objects.get(user=other.user).revoked_at is None
    assert Session.objects.get(user=signed_in.user).revoked_at is None


def test_logout_without_refresh(signed_in: SignedIn) -> None:
    response = signed_in.client.post(LOGOUT, {})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "refresh"


def test_logout_of_another_own_session_ends_both(signed_in: SignedIn) -> None:
    laptop = sign_in(signed_in.user)

    response = signed_in.client.post(LOGOUT, {"refresh": laptop.refresh})

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert laptop.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert Session.objects.filter(user=signed_in.user, revoked_at__isnull=True).count() == 0


def test_role_change_revokes_every_session(signed_in: SignedIn) -> None:
    second = sign_in(signed_in.user)

    with committed():
        user_set_role(user=signed_in.user, role="operator")

    assert signed_in.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert second.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED
    assert AuditEvent.objects.get(action=Action.ROLE_CHANGE).details == {
        "from": "user",
        "to": "operator",
    }


def session_id_of(signed_in: SignedIn) -> str:
    return str(jwt.decode(signed_in.access, options={"verify_signature": False})["sid"])


def test_revoke_all_keeps_the_named_session(signed_in: SignedIn) -> None:
    other = sign_in(signed_in.user)

    with committed():
        revoked = sessions_revoke_all(
            user=signed_in.user, reason="test", keep=session_id_of(signed_in)
        )

    assert revoked == 1
    assert signed_in.client.get(ME).status_code == HTTPStatus.OK
    assert other.client.get(ME).status_code == HTTPStatus.UNAUTHORIZED


def test_purge_expired_deletes_old_sessions_only(signed_in: SignedIn) -> None:
    fresh = sign_in(signed_in.user)
    old = timezone.now() - timedelta(days=8)
    Session.objects.filter(pk=session_id_of(signed_in)).update(expires_at=old)

    call_command("purge_expired")

    assert list(Session.objects.values_list("pk", flat=True)) == [uuid.UUID(session_id_of(fresh))]
    assert fresh.client.get(ME).status_code == HTTPStatus.OK


def test_purge_task_runs_the_same_service(signed_in: SignedIn) -> None:
    from accounts.tasks import purge_expired

    Session.objects.update(revoked_at=timezone.now() - timedelta(days=30))

    assert purge_expired.delay().get() == 1
    assert not Session.objects.exists()
