"""Reads on users."""

from __future__ import annotations

from accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    """The user whose email matches ``email`` case-insensitively, if any."""
    return User.objects.filter(email__iexact=email.strip()).first()
