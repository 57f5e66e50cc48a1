"""The custom user model and set_role."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from accounts.models import Role, User
from accounts.users.services import UnknownRole, user_set_role
from tests.support.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_case_insensitively() -> None:
    User.objects.create_user("Ada@Example.com", "pw-unused-here")

    with pytest.raises(IntegrityError):
        User.objects.create_user("ada@example.COM", "pw-unused-here")


def test_phone_only_users_have_no_email_and_do_not_collide() -> None:
    first = User.objects.create_user(phone_number="+14155550100")
    second = User.objects.create_user(phone_number="+14155550101")

    assert first.email is None
    assert second.email is None
    assert not first.has_usable_password()


def test_phone_number_must_be_e164() -> None:
    user = User(phone_number="415-555-0100")

    with pytest.raises(ValidationError) as error:
        user.full_clean()

    assert "phone_number" in error.value.message_dict


def test_primary_key_is_a_uuid() -> None:
    user = UserFactory.create()

    assert len(str(user.pk)) == 36


@pytest.mark.parametrize(
    ("role", "staff", "superuser"),
    [(Role.USER, False, False), (Role.OPERATOR, True, False), (Role.ADMIN, True, True)],
)
def test_set_role_command(role: str, staff: bool, superuser: bool) -> None:
    user = UserFactory.create(email="ops@example.com")

    call_command("set_role", "OPS@example.com", role)

    user.refresh_from_db()
    assert user.role == role
    assert user.is_staff is staff
    assert user.is_superuser is superuser


def test_set_role_unknown_email() -> None:
    with pytest.raises(CommandError, match=r"No user with email nobody@example\.com"):
        call_command("set_role", "nobody@example.com", "admin")


def test_set_role_unknown_role() -> None:
    UserFactory.create(email="x@example.com")

    with pytest.raises(CommandError):
        call_command("set_role", "x@example.com", "overlord")


def test_service_refuses_unknown_role() -> None:
    with pytest.raises(UnknownRole):
        user_set_role(user=UserFactory.create(), role="overlord")


def test_createsuperuser_makes_an_admin() -> None:
    user = User.objects.create_superuser("root@example.com", "pw-unused-here")

    assert user.role == Role.ADMIN
    assert user.is_staff
    assert user.is_superuser
