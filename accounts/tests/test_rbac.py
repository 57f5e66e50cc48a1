"""The role-by-endpoint matrix, API keys, and the admin's role changes."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.audit import Action
from accounts.models import AuditEvent, Role, Session
from spendsense.api.permissions import ROLE_PERMISSIONS, Perm, may
from tests.support.clients import sign_in
from tests.support.factories.accounts import (
    ROLE_FACTORIES,
    AdminFactory,
    OperatorFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.urls")]

OK, UNAUTH, FORBIDDEN = HTTPStatus.OK, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN

# (method, path) -> expected status for anonymous, user, operator, admin
MATRIX = {
    ("get", "/api/v1/users/me"): (UNAUTH, OK, OK, OK),
    ("get", "/.well-known/jwks.json"): (OK, OK, OK, OK),
    ("get", "/probe/operator"): (UNAUTH, FORBIDDEN, OK, OK),
    ("get", "/probe/admin"): (UNAUTH, FORBIDDEN, FORBIDDEN, OK),
    ("get", "/probe/operator-read"): (UNAUTH, FORBIDDEN, OK, OK),
    ("post", "/probe/operator-read"): (UNAUTH, FORBIDDEN, OK, OK),
}
ROLES = [None, Role.USER, Role.OPERATOR, Role.ADMIN]


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
@pytest.mark.parametrize("role_index", range(4), ids=["anonymous", "user", "operator", "admin"])
def test_role_matrix(method: str, path: str, role_index: int) -> None:
    role = ROLES[role_index]
    client = sign_in(ROLE_FACTORIES[role].create()).client if role else APIClient()

    response = getattr(client, method)(path)

    assert response.status_code == MATRIX[(method, path)][role_index]


def test_permissions_are_data() -> None:
    assert may({"roles": ["user"]}, Perm.READ_OWN)
    assert not may({"roles": ["user"]}, Perm.READ_ANY_USER)
    assert may({"roles": ["operator"]}, Perm.REVIEW)
    assert not may({"roles": ["operator"]}, Perm.MANAGE_ROLES)
    assert ROLE_PERMISSIONS["admin"] >= ROLE_PERMISSIONS["operator"] >= ROLE_PERMISSIONS["user"]
    assert not may({"roles": ["nobody"]}, Perm.READ_OWN)


def api_key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_api_key_reads_operator_endpoints_and_is_audited() -> None:
    api_key, key = APIKey.objects.create_key(name="analytics-export")

    response = api_key_client(key).get("/probe/operator-read")

    assert response.status_code == OK
    event = AuditEvent.objects.get(action=Action.API_KEY_USE)
    assert event.target_id == api_key.prefix
    assert event.details == {
        "name": "analytics-export",
        "method": "GET",
        "path": "/probe/operator-read",
    }
    assert key not in str(event.details)


def test_api_key_cannot_write() -> None:
    _, key = APIKey.objects.create_key(name="reader")

    assert api_key_client(key).post("/probe/operator-read").status_code == FORBIDDEN


@pytest.mark.parametrize("path", ["/probe/operator", "/probe/admin", "/api/v1/users/me"])
def test_api_key_reaches_nothing_else(path: str) -> None:
    _, key = APIKey.objects.create_key(name="reader")

    assert api_key_client(key).get(path).status_code in (UNAUTH, FORBIDDEN)


def test_revoked_unknown_and_expired_keys_are_401() -> None:
    revoked, revoked_key = APIKey.objects.create_key(name="old", revoked=True)
    from django.utils import timezone

    _, expired_key = APIKey.objects.create_key(name="exp", expiry_date=timezone.now())

    for key in (revoked_key, "abcdefgh.not-a-real-key", expired_key, "garbage"):
        response = api_key_client(key).get("/probe/operator-read")
        assert response.status_code == UNAUTH, key
        assert response.json()["errors"][0]["code"] in {"api_key_not_valid"}
    assert revoked.revoked


def test_api_key_hash_only_is_stored() -> None:
    api_key, key = APIKey.objects.create_key(name="hashed")

    assert key not in api_key.hashed_key
    assert api_key.hashed_key.startswith("sha512$$")


def test_admin_site_role_change_goes_through_the_service(client: APIClient) -> None:
    admin = AdminFactory.create()
    target = UserFactory.create(email="promote@example.com")
    target_session = sign_in(target)
    client.force_login(admin)

    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "phone_number": "",
            "username": "",
            "role": "operator",
            "is_active": "on",
        },
    )

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    target.refresh_from_db()
    assert target.role == Role.OPERATOR
    assert target.is_staff
    assert Session.objects.get(user=target).revoke_reason == "role_change"
    assert target_session.client.get("/api/v1/users/me").status_code == UNAUTH
    event = AuditEvent.objects.get(action=Action.ROLE_CHANGE)
    assert event.actor_id == admin.id
    assert event.target_id == str(target.id)


@pytest.mark.parametrize(
    ("role", "can_enter"), [("user", False), ("operator", True), ("admin", True)]
)
def test_console_access_follows_the_role(client: APIClient, role: Role, can_enter: bool) -> None:
    client.force_login(ROLE_FACTORIES[role].create())

    response = client.get("/admin/")

    assert (response.status_code == HTTPStatus.OK) is can_enter


def test_only_admins_manage_api_keys(client: APIClient) -> None:
    client.force_login(OperatorFactory.create())
    assert client.get("/admin/rest_framework_api_key/apikey/").status_code == FORBIDDEN
    client.force_login(AdminFactory.create())
    assert client.get("/admin/rest_framework_api_key/apikey/").status_code == OK
