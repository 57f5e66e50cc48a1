"""The audit trail: written for each event, pseudonymous, append-only on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accounts.audit import Action, audit_record
from accounts.models import AuditEvent
from tests.support.clients import SignedIn
from tests.support.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_a_day_in_the_life_leaves_a_pseudonymous_trail(api_client, signed_in: SignedIn) -> None:
    email = signed_in.user.email
    assert email is not None
    api_client.post(
        "/api/v1/auth/register", {"email": "fresh@example.com", "password": "plum-otter-skyline-42"}
    )
    api_client.post("/api/v1/auth/login", {"email": email, "password": "wrong-password-9"})
    api_client.post("/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD})
    signed_in.client.post("/api/v1/auth/logout", {"refresh": signed_in.refresh})

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))

    assert actions == [
        Action.REGISTER,
        Action.LOGIN_FAILURE,
        Action.LOGIN_SUCCESS,
        Action.LOGOUT,
    ]
    for event in AuditEvent.objects.all():
        flat = " ".join(str(value) for value in event.__dict__.values())
        assert "@" not in flat  # no email anywhere in a row
        assert event.request_id
        assert event.ip == "127.0.0.1"


def test_append_only_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    event = audit_record(action="test.event", actor_id=None)  # type: ignore[arg-type]  # any row

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
