"""Sessions and tokens: sign-in with a password, a session's token pairs and their rotation,
ending sessions, sign-out.

Views call these and stay thin; each raises a DomainError (or DRF exception) with a stable
``code``. A session is one sign-in on one device; its refresh token is opaque and kept only
as a hash, its access tokens are JWTs (accounts.tokens).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Least
from django.utils import timezone
from rest_framework import exceptions

from accounts import selectors, tokens
from accounts.audit import Action, audit_record
from accounts.mfa.services import mfa_active, mfa_challenge
from accounts.models import RotatedRefreshToken, Session, User
from accounts.selectors import deny_key, user_get_by_login
from spendsense import coherence
from spendsense.api.errors import DomainError
from spendsense.api.request import RequestMeta


class InvalidCredentials(exceptions.AuthenticationFailed):
    """One answer for every failed sign-in, so it cannot tell which part was wrong."""

    default_detail = "Invalid credentials."
    default_code = "invalid_credentials"


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = "Invalid or expired refresh token."
    default_code = "token_not_valid"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_response(self) -> dict[str, Any]:
        return {
            "access": self.access,
            "refresh": self.refresh,
            "token_type": "Bearer",
            "expires_in": settings.ACCESS_TOKEN_LIFETIME_SECONDS,
        }


def _hash(token: str) -> str:
    # Refresh tokens carry 384 random bits: a plain SHA-256 cannot be brute-forced back.
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def _refresh_expiry() -> Any:
    return timezone.now() + timedelta(days=settings.REFRESH_TOKEN_LIFETIME_DAYS)


def _session_end_of_life() -> Any:
    """A refresh extends a session to the sliding expiry, never past its absolute end
    (``SESSION_MAX_DAYS`` after it began): computed in the one UPDATE that rotates it."""
    return Least(
        Value(_refresh_expiry(), output_field=DateTimeField()),
        F("created_at") + timedelta(days=settings.SESSION_MAX_DAYS),
        output_field=DateTimeField(),
    )


@lru_cache(maxsize=1)
def _dummy_password_hash() -> str:
    # Verified against when the user does not exist, so unknown and known emails cost the same.
    return make_password(secrets.token_urlsafe(16))


def user_authenticate(
    *, email: str | None, username: str | None, password: str, meta: RequestMeta
) -> User:
    """The user these credentials name, or InvalidCredentials (same answer, similar time)."""
    user = user_get_by_login(email=email, username=username)
    if user is None or not user.has_usable_password():
        check_password(password, _dummy_password_hash())
        audit_record(
            action=Action.LOGIN_FAILURE,
            actor_id=user.id if user is not None else None,
            meta=meta,
        )
        raise InvalidCredentials()
    if not (user.check_password(password) and user.is_active):
        audit_record(action=Action.LOGIN_FAILURE, actor_id=user.id, meta=meta)
        raise InvalidCredentials()
    audit_record(action=Action.LOGIN_SUCCESS, actor_id=user.id, meta=meta)
    return user


def signed_in(*, user: User, meta: RequestMeta) -> dict[str, Any]:
    """The answer to a first factor that passed (password, texted code, provider): the MFA
    challenge while the user has a second factor on, else a new session's tokens."""
    if mfa_active(user):
        return mfa_challenge(user=user)  # the second factor completes it (mfa_verify)
    return session_create(user=user, meta=meta).as_response()


@transaction.atomic
def session_create(*, user: User, meta: RequestMeta) -> TokenPair:
    """A new session (one sign-in on one device) and its first token pair.

    Only for the user as they were verified: their row is locked and must still have the
    password, role and active flag the sign-in checked. A password changed while the sign-in
    was checking the old one refuses it, and a change that comes after waits for this
    session and then ends it with the others."""
    unchanged = User.objects.select_for_update().filter(
        pk=user.pk, password=user.password, role=user.role, is_active=True
    )
    if not list(unchanged.values_list("pk", flat=True)):
        raise InvalidCredentials()
    refresh = _new_refresh_token()
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        refresh_token_hash=_hash(refresh),
        expires_at=min(_refresh_expiry(), now + timedelta(days=settings.SESSION_MAX_DAYS)),
        last_used_at=now,
        user_agent=meta.user_agent,
        ip=meta.ip,
    )
    coherence.session_started(session.id)
    access = tokens.access_token_issue(user_id=user.id, session_id=session.id, role=user.role)
    return TokenPair(access=access, refresh=refresh)


def session_rotate(*, refresh_token: str, meta: RequestMeta) -> TokenPair:
    """Exchange a refresh token for a new pair.

    Exactly one of any number of concurrent exchanges of one token wins: the swap is a single
    conditional UPDATE. A token that was already exchanged is proof of a leak; its whole
    session is revoked and the event audited.
    """
    old_hash = _hash(refresh_token)
    new_token = _new_refresh_token()
    now = timezone.now()
    with transaction.atomic():
        swapped = Session.objects.filter(
            refresh_token_hash=old_hash, revoked_at__isnull=True, expires_at__gt=now
        ).update(
            refresh_token_hash=_hash(new_token),
            expires_at=_session_end_of_life(),
            last_used_at=now,
            ip=meta.ip,
        )
        if swapped:
            session = Session.objects.select_related("user").get(
                refresh_token_hash=_hash(new_token)
            )
            RotatedRefreshToken.objects.create(session=session, token_hash=old_hash)
    if swapped:
        user = session.user
        if not user.is_active:
            session_revoke(session=session, reason="user_inactive")
            raise InvalidRefreshToken()
        access = tokens.access_token_issue(user_id=user.id, session_id=session.id, role=user.role)
        return TokenPair(access=access, refresh=new_token)

    reused = (
        RotatedRefreshToken.objects.filter(token_hash=old_hash).select_related("session").first()
    )
    if reused is not None:
        revoked = session_revoke(session=reused.session, reason="refresh_token_reuse")
        if revoked:
            audit_record(
                action=Action.REFRESH_REUSE,
                actor_id=reused.session.user_id,
                meta=meta,
                target_type="session",
                target_id=str(reused.session_id),
            )
    raise InvalidRefreshToken()


def session_revoke(*, session: Session, reason: str) -> bool:
    """Revoke one session (idempotent); True when this call revoked it."""
    return bool(Session.objects.filter(pk=session.pk).revoke(reason=reason))


def session_end(*, user: User, session_id: str, meta: RequestMeta) -> None:
    """End one of the user's own live sessions: its refresh token is refused and its access
    tokens with it, from the next request. 404 for any other id (another user's included)."""
    session = selectors.sessions_live_for_user(user=user).filter(pk=session_id).first()
    if session is None:
        raise exceptions.NotFound("No such session.", code="session_not_found")
    session_revoke(session=session, reason="ended_by_user")
    audit_record(
        action=Action.SESSION_END,
        actor_id=user.id,
        meta=meta,
        target_type="session",
        target_id=str(session.id),
    )


def sessions_end_others(*, user: User, current_session_id: str, meta: RequestMeta) -> int:
    """End every live session of the user but the one making the request; how many."""
    ended = sessions_revoke_all(user=user, reason="ended_by_user", keep=current_session_id)
    audit_record(
        action=Action.SESSION_END,
        actor_id=user.id,
        meta=meta,
        details={"others": ended},
    )
    return ended


def sessions_revoke_all(*, user: User, reason: str, keep: str | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many."""
    sessions = Session.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(pk=keep)
    return len(sessions.revoke(reason=reason))


def logout(*, user: User, claims: dict[str, Any], refresh_token: str, meta: RequestMeta) -> None:
    """End the caller's session and deny its access token until the token expires.

    The refresh token must belong to the caller; when it names another of the caller's
    sessions, that one ends too.
    """
    session = Session.objects.filter(pk=claims["sid"], user=user).first()
    named = Session.objects.filter(refresh_token_hash=_hash(refresh_token), user=user).first()
    if named is None:
        raise DomainError("Unknown refresh token.", code="token_not_valid", attr="refresh")
    for target in {s for s in (session, named) if s is not None}:
        session_revoke(session=target, reason="logout")
    cache.set(deny_key(claims["jti"]), "1", timeout=tokens.seconds_left(claims))
    audit_record(action=Action.LOGOUT, actor_id=user.id, meta=meta)


def sessions_purge_expired(*, older_than_days: int = 7) -> int:
    """Delete sessions expired or revoked more than ``older_than_days`` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = Session.objects.filter(expires_at__lt=cutoff)
    revoked = Session.objects.filter(revoked_at__lt=cutoff)
    _, per_model = (expired | revoked).delete()
    return per_model.get(Session._meta.label, 0)
