"""Re-authentication for what cannot be undone: deleting the account, erasing data with
consent, changing the email, turning MFA off, unlinking a way to sign in.

The caller proves it is still the account's owner with the current password, or with a
session that signed in within ``REAUTHENTICATION_SECONDS`` (the way for accounts without a
password, and for anyone who just typed theirs). A password that is given must be right.
One function decides it, for every such action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Session, User
from spendsense.api.errors import DomainError
from spendsense.api.throttles import AtomicRateThrottleMixin


class ReauthenticationRequired(DomainError):
    status_code = 403
    default_code = "reauthentication_required"
    default_detail = (
        "Confirm it is you: send your current password as current_password, or sign in "
        "again and retry within 10 minutes."
    )


class ReauthenticationThrottle(AtomicRateThrottleMixin, SimpleRateThrottle):
    """Password attempts per user on these actions: a stolen access token must not become a
    password-guessing oracle (10 an hour, then 429; fails closed)."""

    scope = "reauthentication"
    fail_open = False

    def get_cache_key(self, request: object, view: object) -> str | None:  # pragma: no cover
        return None  # counted explicitly, per user


def current_password_confirmed(*, user: User, password: str) -> bool:
    """Whether ``password`` is the user's current one; every attempt is counted (429 past
    the limit, right or wrong), for every action that asks for it."""
    throttle = ReauthenticationThrottle()
    if not throttle.hit(f"throttle_reauthentication_{user.pk}"):
        raise exceptions.Throttled(wait=throttle.wait())
    return user.has_usable_password() and user.check_password(password)


@dataclass(frozen=True)
class Reauthentication:
    """What a caller offers to show they are present, for what cannot be undone: the session
    of their access token (accounts.api.request.request_session_id), whose sign-in time is
    what "recently" is measured on (None for a caller without one), and the current
    password when they sent it."""

    session_id: str | None
    password: str | None = None


def reauthentication_check(*, user: User, proof: Reauthentication) -> None:
    """Pass, or ReauthenticationRequired (403): the password is right, or else the session
    signed in recently."""
    password, session_id = proof.password, proof.session_id
    if password:
        if current_password_confirmed(user=user, password=password):
            return
        raise ReauthenticationRequired()
    since = timezone.now() - timedelta(seconds=settings.REAUTHENTICATION_SECONDS)
    if (
        session_id
        and Session.objects.filter(pk=session_id, user_id=user.pk, created_at__gte=since)
        .live()
        .exists()
    ):
        return
    raise ReauthenticationRequired()
