"""Writes on users. Views and commands call these; they hold the rules."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Role, User
from spendsense.api.errors import DomainError


class UnknownRole(DomainError):
    default_code = "invalid_role"
    default_detail = "Unknown role."


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    """Give ``user`` the role ``role``; admins are superusers in the console, others are not."""
    if role not in Role.values:
        raise UnknownRole(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", attr="role"
        )
    user.role = role
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_superuser", "updated_at"])
    return user
