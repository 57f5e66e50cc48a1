"""Cache coherence: the one owner of what the cache holds about a user, and when it is stale.

Two kinds of cached copies exist:

- **Per-user entries** (the principal authentication reads, rendered insight bodies) are stored
  as ``(version, value)`` and count only while ``version`` is the user's current cache version.
  ``user_changed`` bumps the version *after the transaction commits*, so no reader can cache
  the old state under the new version: a reader reads the version before the database, and a
  write of an entry is refused (atomically, in Redis) once the version has moved on. Every
  entry is indexed under its user, so ``user_erased`` can delete them all.
- **Session state** (``"1"`` live, ``"0"`` ended) spares authentication a query per request;
  ``sessions_ended`` writes it through on commit.

Nothing else in the project builds these keys or bumps versions. The apps call in here:
accounts when a user row or session changes (every save, whatever made it), the engine after a
recompute, review after a decision, uploads and consent on erasure.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from spendsense.redis import redis_client

logger = logging.getLogger(__name__)

UserId = uuid.UUID | str

# A deleted user's version key outlives every write that could still be in flight, then goes.
ERASED_VERSION_SECONDS = 24 * 3600


# --- keys ----------------------------------------------------------------------------------


def version_key(user_id: UserId) -> str:
    return f"user:{user_id}:v"


def entry_key(user_id: UserId, name: str) -> str:
    """A per-user entry: ``principal``, or ``body:<name>`` for an insight body."""
    return f"user:{user_id}:{name}"


def _index_key(user_id: UserId) -> str:
    return f"user:{user_id}:entries"


def session_state_key(session_id: UserId) -> str:
    return f"session:live:{session_id}"


# --- versions ------------------------------------------------------------------------------


def user_changed(user_id: UserId) -> None:
    """Every cached entry of this user is stale once the current transaction commits (at once
    outside a transaction). Call it for any write a cached read depends on."""
    users_changed([user_id])


def users_changed(user_ids: Iterable[UserId]) -> None:
    """``user_changed`` for many users at once (one round trip per thousand on commit)."""
    ids = list(dict.fromkeys(str(u) for u in user_ids))
    if ids:
        transaction.on_commit(partial(_bump, ids), robust=True)


def user_erased(user_id: UserId, *, account_deleted: bool = False) -> None:
    """On commit: the version moves on (so no write in flight can land) and every cached entry
    of the user is deleted, so no copy of their data outlives its erasure."""
    transaction.on_commit(partial(_erase, str(user_id), account_deleted), robust=True)


def current_version(user_id: UserId) -> int:
    """The user's cache version now (0 before the first bump)."""
    return int(cache.get(version_key(user_id)) or 0)


def fresh(entry: Any, version: int | None) -> Any | None:
    """The value of a cached ``(version, value)`` entry, unless it is missing, of another
    shape, or of another version than ``version`` (then it is stale)."""
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == (version or 0):
        return entry[1]
    return None


# On Redis each of these is one atomic script: a read-compare-write in two commands could let
# a bump land in between, which is exactly the race this module exists to close.
_STORE = """
local current = redis.call('GET', KEYS[1]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('SADD', KEYS[3], KEYS[2])
if redis.call('TTL', KEYS[3]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return 1
"""
_ERASE = """
redis.call('INCR', KEYS[1])
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[2])
if ARGV[1] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""
_scripts: dict[tuple[int, str], Any] = {}


def _script(redis: Any, source: str) -> Any:
    memo = (id(redis), source)
    if memo not in _scripts:
        _scripts[memo] = redis.register_script(source)
    return _scripts[memo]


def store(user_id: UserId, name: str, value: Any, *, version: int | None, ttl: int) -> bool:
    """Cache ``value`` as the user's entry ``name`` for ``version``, only if that is still the
    user's version (a reader that started before a change must not write after it). True when
    written."""
    version = version or 0
    key = entry_key(user_id, name)
    try:
        redis = redis_client()
        if redis is not None:
            make = cache.make_key
            keys = [make(version_key(user_id)), make(key), make(_index_key(user_id))]
            payload = cache.client.encode((version, value))  # type: ignore[attr-defined]
            return bool(_script(redis, _STORE)(keys=keys, args=[version, payload, ttl]))
    except Exception:  # Redis unreachable: the read goes to the database next time too
        logger.warning("cache unreachable: entry not stored", exc_info=True)
        return False
    # The embedded local-memory cache serves one process: compare and write in turn.
    if current_version(user_id) != version:
        return False
    cache.set(key, (version, value), timeout=ttl)
    index = cache.get(_index_key(user_id)) or set()
    cache.set(_index_key(user_id), {*index, key}, timeout=ttl)
    return True


def _bump(user_ids: list[str]) -> None:
    try:
        redis = redis_client()
        if redis is not None:
            for start in range(0, len(user_ids), 1000):
                pipe = redis.pipeline(transaction=False)
                for user_id in user_ids[start : start + 1000]:
                    pipe.incr(cache.make_key(version_key(user_id)))
                pipe.execute()
            return
    except Exception:
        logger.warning("cache unreachable: versions not bumped", exc_info=True)
        return
    for user_id in user_ids:
        try:
            cache.incr(version_key(user_id))
        except ValueError:
            cache.add(version_key(user_id), 1, timeout=None) or cache.incr(version_key(user_id))


def _erase(user_id: str, account_deleted: bool) -> None:
    expire = ERASED_VERSION_SECONDS if account_deleted else 0
    try:
        redis = redis_client()
        if redis is not None:
            make = cache.make_key
            keys = [make(version_key(user_id)), make(_index_key(user_id))]
            _script(redis, _ERASE)(keys=keys, args=[expire])
            return
    except Exception:
        logger.error("cache unreachable: cached entries of an erased user left", exc_info=True)
        return
    _bump([user_id])
    cache.delete_many([*(cache.get(_index_key(user_id)) or ()), _index_key(user_id)])


def entries_read(user_id: UserId, names: list[str]) -> tuple[int, dict[str, Any]]:
    """The user's version and the fresh values among entries ``names``, in one read."""
    keys = [version_key(user_id), *(entry_key(user_id, n) for n in names)]
    found = cache.get_many(keys)
    version = int(found.get(keys[0]) or 0)
    values = {}
    for name in names:
        value = fresh(found.get(entry_key(user_id, name)), version)
        if value is not None:
            values[name] = value
    return version, values


# --- sessions ------------------------------------------------------------------------------


def session_started(session_id: UserId) -> None:
    """A new session is live (written at once: nobody else can know its id yet)."""
    cache.set(session_state_key(session_id), "1", timeout=settings.SESSION_STATE_CACHE_SECONDS)


def session_state_learned(session_id: UserId, live: bool) -> None:
    """What a reader found in the database. Written only where nothing is cached: a reader
    that looked before a revocation committed must not overwrite its "0"."""
    cache.add(
        session_state_key(session_id),
        "1" if live else "0",
        timeout=settings.SESSION_STATE_CACHE_SECONDS,
    )


def sessions_ended(session_ids: Iterable[UserId]) -> None:
    """These sessions are over: written through when the transaction that ended them commits,
    so authentication refuses their tokens on the next request."""
    ids = [str(s) for s in session_ids]
    if ids:
        transaction.on_commit(partial(_sessions_dead, ids), robust=True)


def _sessions_dead(ids: list[str]) -> None:
    cache.set_many(
        {session_state_key(s): "0" for s in ids}, timeout=settings.SESSION_STATE_CACHE_SECONDS
    )
