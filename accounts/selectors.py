"""Reads on users and sessions."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Session, User
from spendsense.redis import Batch, count_commands, decode, round_trip

logger = logging.getLogger(__name__)


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
    return cache.get(deny_key(jti)) is not None


def deny_key(jti: str) -> str:
    return f"jwt:deny:{jti}"


USER_ROW_SECONDS = 300


def _principal_lookup(keys: list[str], batch: Batch | None) -> dict[str, Any]:
    """The cached entries among ``keys``; with a batch, its reads and counts in the same
    round trip (Redis only). With the cache down: nothing found, and counts None."""
    if batch is None:
        return cache.get_many(keys)
    redis = batch.redis
    every = keys + batch.keys
    backend = caches["default"]  # bound once: each use of ``cache`` is a thread-local lookup
    try:
        commands: list[tuple[Any, ...]] = [("MGET", *(backend.make_key(key) for key in every))]
        for key, ttl in batch.counters:
            commands += count_commands(key, ttl, backend=backend)
        values, *counted = round_trip(redis, commands)
    except Exception:  # unreachable: read the database; throttles apply their fail mode
        logger.warning("cache unreachable during authentication", exc_info=True)
        batch.counts = dict.fromkeys((key for key, _ in batch.counters), None)
        return {}
    found = {
        key: decode(raw, backend=backend)
        for key, raw in zip(every, values, strict=True)
        if raw is not None
    }
    batch.found = {key: found[key] for key in batch.keys if key in found}
    # Each counter queued an INCR then an EXPIRE: the counts are every other result.
    batch.counts = {key: int(n) for (key, _), n in zip(batch.counters, counted[::2], strict=True)}
    return found


def token_principal(*, claims: dict[str, Any], batch: Batch | None = None) -> User | None:
    """The live, active user behind verified access-token claims, or None.

    The hot path of every authenticated request, built to cost no database query and one
    cache round trip when the cache is warm: the deny-list entry, the session's state, the
    user's cache version and the cached user row (its key carries that version, so any
    change to the user is seen at once), plus the ``batch`` the request's view and throttle
    asked for (its cached body, its throttle count). With the cache down it falls back to
    the database.
    """
    from recommendations.cache import version_key

    sid, sub, jti = claims["sid"], claims["sub"], claims["jti"]
    keys = [deny_key(jti), session_state_key(sid), version_key(sub), user_row_key(sub)]
    found = _principal_lookup(keys, batch)
    if found.get(deny_key(jti)) is not None:
        return None
    state = found.get(session_state_key(sid))
    if state is None:
        if not session_is_live(session_id=sid):
            return None
    elif state != "1":
        return None
    user = user_row(user_id=sub, found=found)
    if user is None or not user.is_active:
        return None
    return user


def user_row_key(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}:row"


def user_row(*, user_id: uuid.UUID | str, found: dict[str, Any] | None = None) -> User | None:
    """The user ``user_id``, from the cache when the cached row is of the user's current
    cache version (every change to a user bumps it: accounts.services), else from the
    database, then cached. The version rides along as ``insights_cache_version``, for the
    cached reads of their insights. ``found``: the version and row already read in the
    caller's round trip; without it, one read of both."""
    from recommendations.cache import version_key

    if found is None:
        found = cache.get_many([version_key(user_id), user_row_key(user_id)])
    version = found.get(version_key(user_id)) or 0
    row = found.get(user_row_key(user_id))
    # The row is stored with the version it was read at: a bumped version means stale.
    user = row[1] if isinstance(row, tuple) and row[0] == version else None
    if user is None:
        # select_related: the row is cached with its MFA device (users/me shows it).
        user = User.objects.select_related("mfa_device").filter(pk=user_id).first()
        if user is not None:
            cache.set(user_row_key(user_id), (version, user), timeout=USER_ROW_SECONDS)
    if user is not None:
        user.insights_cache_version = version  # type: ignore[union-attr]  # reused by cached reads
    return user


def sessions_for_user(*, user: User) -> QuerySet[Session]:
    return Session.objects.filter(user=user).order_by("-created_at")
