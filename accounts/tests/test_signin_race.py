"""A sign-in that checked the old password while the password changed ends with no live
session (two connections on PostgreSQL, a barrier between)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Session, User
from tests.support.commits import paused_after
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sign_in_racing_a_password_change_gets_no_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person = UserFactory.create()

    def sign_in() -> Any:
        return APIClient().post(
            "/api/v1/auth/login", {"email": person.email, "password": DEFAULT_PASSWORD}
        )

    with paused_after(monkeypatch, User, "check_password", sign_in) as signing_in:
        # The old password checked out: the change happens now.
        changed = User.objects.get(pk=person.pk)
        changed.set_password("an entirely new passphrase 91")
        changed.save()

    assert signing_in.error is None
    answer = signing_in.result
    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert not Session.objects.filter(user=person, revoked_at__isnull=True).exists()
