"""A new password, a deactivation, a role change or a deletion ends every session of the user,
wherever it is made (the API, the console, the ORM, a management command): the very next
cached read and full read are 401, and the refresh token is refused."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import ConsentStatus, Session, User
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import DEFAULT_PASSWORD, AdminFactory
from tests.support.insights import approve_all, seed

pytestmark = pytest.mark.django_db
CACHED = "/api/v1/users/me/signals"  # answered from the cache once warm
FULL = "/api/v1/users/me"  # read through the whole stack
NEW_PASSWORD = "a different passphrase 77"


def console(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def console_form(user: User, **changes: Any) -> dict[str, Any]:
    """The console's user form as it would be posted, with ``changes``."""
    form = {
        "email": user.email,
        "phone_number": "",
        "username": "",
        "role": user.role,
        "is_active": "on",
        **changes,
    }
    return {k: v for k, v in form.items() if v is not None}


def deactivate_in_console(victim: SignedIn) -> None:
    response = console(AdminFactory.create()).post(
        f"/admin/accounts/user/{victim.user.pk}/change/",
        console_form(victim.user, is_active=None),
    )
    assert response.status_code == HTTPStatus.FOUND


def deactivate_with_the_orm(victim: SignedIn) -> None:
    user = User.objects.get(pk=victim.user.pk)
    user.is_active = False
    with committed():
        user.save()


def deactivate_with_a_queryset_update(victim: SignedIn) -> None:
    with committed():
        User.objects.filter(pk=victim.user.pk).update(is_active=False)


def set_password_in_console(victim: SignedIn) -> None:
    response = console(AdminFactory.create()).post(
        f"/admin/accounts/user/{victim.user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == HTTPStatus.FOUND


def set_password_with_the_orm(victim: SignedIn) -> None:
    user = User.objects.get(pk=victim.user.pk)
    user.set_password(NEW_PASSWORD)
    with committed():
        user.save()


def set_password_through_the_api(victim: SignedIn) -> None:
    response = victim.client.put(
        FULL, {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == HTTPStatus.OK


def change_role_in_console(victim: SignedIn) -> None:
    response = console(AdminFactory.create()).post(
        f"/admin/accounts/user/{victim.user.pk}/change/",
        console_form(victim.user, role="operator"),
    )
    assert response.status_code == HTTPStatus.FOUND


def change_role_with_the_orm(victim: SignedIn) -> None:
    user = User.objects.get(pk=victim.user.pk)
    user.role = "operator"
    with committed():
        user.save()


def change_role_with_the_command(victim: SignedIn) -> None:
    with committed():
        call_command("set_role", victim.user.email, "operator")


def delete_in_console(victim: SignedIn) -> None:
    response = console(AdminFactory.create()).post(
        f"/admin/accounts/user/{victim.user.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FOUND


def delete_with_the_orm(victim: SignedIn) -> None:
    with committed():
        User.objects.get(pk=victim.user.pk).delete()


def delete_through_the_api(victim: SignedIn) -> None:
    assert victim.client.delete(FULL).status_code == HTTPStatus.NO_CONTENT


CHANGES: dict[str, Callable[[SignedIn], None]] = {
    f.__name__: f
    for f in (
        deactivate_in_console,
        deactivate_with_the_orm,
        deactivate_with_a_queryset_update,
        set_password_in_console,
        set_password_with_the_orm,
        set_password_through_the_api,
        change_role_in_console,
        change_role_with_the_orm,
        change_role_with_the_command,
        delete_in_console,
        delete_with_the_orm,
        delete_through_the_api,
    )
}


@pytest.fixture
def victim(consented: SignedIn) -> SignedIn:
    seed(consented)
    approve_all(consented.user.id)
    return consented


@pytest.mark.parametrize("change", CHANGES)
def test_the_change_ends_every_session_at_once(victim: SignedIn, change: str) -> None:
    other_device = sign_in(victim.user)
    for signed in (victim, other_device):  # both reads warm: the principal and the body cached
        assert signed.client.get(CACHED).status_code == HTTPStatus.OK
        assert signed.client.get(CACHED).status_code == HTTPStatus.OK
        assert signed.client.get(FULL).status_code == HTTPStatus.OK

    CHANGES[change](victim)

    for signed in (victim, other_device):
        assert signed.client.get(CACHED).status_code == HTTPStatus.UNAUTHORIZED, change
        assert signed.client.get(FULL).status_code == HTTPStatus.UNAUTHORIZED, change
        refreshed = Client().post(
            "/api/v1/auth/refresh", {"refresh": signed.refresh}, content_type="application/json"
        )
        assert refreshed.status_code == HTTPStatus.UNAUTHORIZED, change
    assert not Session.objects.filter(user_id=victim.user.pk, revoked_at__isnull=True).exists()


def test_any_other_change_keeps_the_sessions_and_is_seen_at_once(victim: SignedIn) -> None:
    """Consent withdrawn straight in the database (a shell, a migration): no session ends, and
    the very next cached read is refused, since every save bumps the user's cache version."""
    assert victim.client.get(CACHED).status_code == HTTPStatus.OK
    user = User.objects.get(pk=victim.user.pk)
    user.consent_status = ConsentStatus.REVOKED
    with committed():
        user.save()

    assert victim.client.get(CACHED).status_code == HTTPStatus.FORBIDDEN
    assert victim.client.get(FULL).json()["consent_status"] == "revoked"


def test_a_stronger_hash_of_the_same_password_is_not_a_new_password(
    victim: SignedIn, settings: Any
) -> None:
    """Signing in with a hash from an older hasher upgrades it; that must not sign the person
    out everywhere."""
    from django.contrib.auth.hashers import make_password

    with committed():
        User.objects.filter(pk=victim.user.pk).update(
            password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
        )
    victim = sign_in(User.objects.get(pk=victim.user.pk))  # that update ended the sessions
    login = Client().post(
        "/api/v1/auth/login",
        {"email": victim.user.email, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )

    assert login.status_code == HTTPStatus.OK
    assert User.objects.get(pk=victim.user.pk).password.startswith("bcrypt_sha256$")
    assert victim.client.get(FULL).status_code == HTTPStatus.OK


@pytest.mark.parametrize("field", ["password", "role", "is_active"])
def test_a_fixture_load_that_replaces_the_row_ends_the_sessions(
    victim: SignedIn, field: str
) -> None:
    """``loaddata`` saves deserialised objects raw: they look new, yet replace the row."""
    from django.core import serializers

    user = User.objects.get(pk=victim.user.pk)
    setattr(user, field, {"password": "!changed", "role": "operator", "is_active": False}[field])
    dumped = serializers.serialize("json", [user])

    with committed():
        for loaded in serializers.deserialize("json", dumped):
            loaded.save()

    assert victim.client.get(FULL).status_code == HTTPStatus.UNAUTHORIZED
    assert not Session.objects.filter(user_id=victim.user.pk, revoked_at__isnull=True).exists()
