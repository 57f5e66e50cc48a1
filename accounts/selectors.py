"""Reads on users and sessions."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.cache import cache, caches
from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet

from accounts.models import Session, User
from spendsense import coherence
from spendsense.redis import Batch, count_commands, decode, round_trip

logger = logging.getLogger(__name__)


def user_get_by_login(*, email: str | None, username: str | None) -> User | None:
    """The user a login names, by email or by username (both case-insensitive)."""
    if email:
        return User.objects.filter(email__iexact=email.strip()).first()
    if username:
        return User.objects.filter(username__iexact=username.strip()).first()
    return None


def session_is_live(*, session_id: str) -> bool:
    """Whether the session behind an access token is still live, from the database; what it
    finds is cached (coherence.session_state_learned) and revocations write through."""
    live = Session.objects.filter(pk=session_id).live().exists()
    coherence.session_state_learned(session_id, live)
    return live


def deny_key(jti: str) -> str:
    return f"jwt:deny:{jti}"


# What authentication needs of a user, and all the cache holds of one: a plain dict, never a
# pickled model. The rest of the row loads from the database when something reads it.
PRINCIPAL_FIELDS = ("id", "is_active", "role", "is_superuser", "consent_status", "consent_version")
PRINCIPAL = "principal"
PRINCIPAL_SECONDS = 300


def _principal_from(row: dict[str, Any]) -> User:
    """A User of the principal's fields, the others deferred (Django loads them on access)."""
    values = [row[f.attname] for f in User._meta.concrete_fields if f.attname in row]
    return User.from_db(DEFAULT_DB_ALIAS, list(row), values)


def _lookup(keys: list[str], batch: Batch | None) -> dict[str, Any]:
    """The cached entries among ``keys``; with a batch, its reads and counts in the same
    round trip (Redis only). With the cache down: nothing found, and counts None."""
    if batch is None:
        return cache.get_many(keys)
    every = keys + batch.keys
    backend = caches["default"]  # bound once: each use of ``cache`` is a thread-local lookup
    try:
        commands: list[tuple[Any, ...]] = [("MGET", *(backend.make_key(key) for key in every))]
        for key, ttl in batch.counters:
            commands += count_commands(key, ttl, backend=backend)
        values, *counted = round_trip(batch.redis, commands)
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
    user's cache version and cached principal, plus the ``batch`` the request's view and
    throttle asked for (its cached body, its throttle count). A refused token gives back
    what the batch counted: only confirmed principals spend a user's budget. With the cache
    down it falls back to the database.
    """
    sid, sub, jti = claims["sid"], claims["sub"], claims["jti"]
    keys = [
        deny_key(jti),
        coherence.session_state_key(sid),
        coherence.version_key(sub),
        coherence.entry_key(sub, PRINCIPAL),
    ]
    found = _lookup(keys, batch)
    user = None
    if found.get(deny_key(jti)) is None:
        state = found.get(coherence.session_state_key(sid))
        if state == "1" or (state is None and session_is_live(session_id=sid)):
            user = user_row(user_id=sub, found=found)
    if user is None or not user.is_active:
        if batch is not None:
            uncount(batch)
        return None
    return user


def uncount(batch: Batch) -> None:
    """Give back what a batch counted (its request turned out not to be a confirmed user's)."""
    counted = [key for key, n in batch.counts.items() if n is not None]
    if not counted:
        return
    backend = caches["default"]
    try:
        round_trip(batch.redis, [("DECR", backend.make_key(key)) for key in counted])
    except Exception:
        logger.warning("cache unreachable: a refused request stays counted", exc_info=True)
    batch.counts = {}


def user_row(*, user_id: uuid.UUID | str, found: dict[str, Any] | None = None) -> User | None:
    """The user ``user_id`` as its cached principal (coherence: current only while the user's
    cache version has not moved on), else from the database, then cached. The version rides
    along as ``insights_cache_version``, for the cached reads of their insights. ``found``:
    the version and principal already read in the caller's round trip; without it, one read
    of both."""
    if found is None:
        found = cache.get_many(
            [coherence.version_key(user_id), coherence.entry_key(user_id, PRINCIPAL)]
        )
    version = int(found.get(coherence.version_key(user_id)) or 0)
    row = coherence.fresh(found.get(coherence.entry_key(user_id, PRINCIPAL)), version)
    if row is None:
        row = User.objects.filter(pk=user_id).values(*PRINCIPAL_FIELDS).first()
        if row is None:
            return None
        coherence.store(user_id, PRINCIPAL, row, version=version, ttl=PRINCIPAL_SECONDS)
    user = _principal_from(row)
    user.insights_cache_version = version  # type: ignore[attr-defined]  # reused by cached reads
    return user


def user_profile(*, user_id: uuid.UUID | str) -> User:
    """The whole user row with its authenticator, for showing the user to themselves."""
    return User.objects.select_related("mfa_device").get(pk=user_id)


def sessions_live_for_user(*, user: User) -> QuerySet[Session]:
    """The user's own sessions that still work, most recently used first. The only way the
    API reaches sessions: another user's cannot be named through it."""
    return Session.objects.filter(user=user).live().order_by("-last_used_at", "-created_at")
