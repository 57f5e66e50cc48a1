"""Reads on users and sessions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Session, User


def user_get_by_email(*, email: str) -> User | None:
    """The user whose email matches ``email`` case-insensitively, if any."""
    return User.objects.filter(email__iexact=email.strip()).first()


def user_get_by_login(*, email: str | None, username: str | None) -> User | None:
    """The user a login names, by email or by username (both case-insensitive)."""
    if email:
        return User.objects.filter(email__iexact=email.strip()).first()
    if username:
        return User.objects.filter(username__iexact=username.strip()).first()
    return None


def session_state_key(session_id: uuid.UUID | str) -> str:
    return f"session:live:{session_id}"


def session_is_live(*, session_id: str) -> bool:
    """Whether the session behind an access token is still live; cached, written through on
    revocation (see services.session_revoke), so a revoked session fails at once."""
    key = session_state_key(session_id)
    state = cache.get(key)
    if state is None:
        live = Session.objects.filter(
            pk=session_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).exists()
        state = "1" if live else "0"
        cache.set(key, state, timeout=settings.SESSION_STATE_CACHE_SECONDS)
    return bool(state == "1")


def access_token_is_denied(*, jti: str) -> bool:
    return cache.get(f"jwt:deny:{jti}") is not None


def sessions_for_user(*, user: User) -> QuerySet[Session]:
    return Session.objects.filter(user=user).order_by("-created_at")
