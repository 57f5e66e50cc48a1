"""A sign-in that checked the old password while the password changed ends with no live
session (two connections on PostgreSQL, a barrier between)."""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.models import Session, User
from tests.support.factories.accounts import DEFAULT_PASSWORD, UserFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sign_in_racing_a_password_change_gets_no_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person = UserFactory.create()
    barrier = threading.Barrier(2, timeout=20)
    real_check = User.check_password
    answers: list[Any] = []

    def paused_check(self: User, raw: str) -> bool:
        ok = real_check(self, raw)
        barrier.wait()  # the old password checked out: the change happens now
        barrier.wait()  # changed and committed: the sign-in goes on
        return ok

    def sign_in() -> None:
        try:
            answers.append(
                APIClient().post(
                    "/api/v1/auth/login", {"email": person.email, "password": DEFAULT_PASSWORD}
                )
            )
        finally:
            connections.close_all()

    monkeypatch.setattr(User, "check_password", paused_check)
    worker = threading.Thread(target=sign_in)
    worker.start()
    barrier.wait()
    changed = User.objects.get(pk=person.pk)
    changed.set_password("an entirely new passphrase 91")
    changed.save()
    barrier.wait()
    worker.join()

    (answer,) = answers
    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert not Session.objects.filter(user=person, revoked_at__isnull=True).exists()
