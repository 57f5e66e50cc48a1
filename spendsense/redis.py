"""The redis-py client behind the default cache, for the few places that batch commands
into one round trip where Django's cache API would make several."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache


def redis_client() -> Any | None:
    """The raw client when the default cache is django-redis; None otherwise (the embedded
    local-memory cache), where callers use the cache API instead."""
    client_of = getattr(cache, "client", None)
    if client_of is None or not hasattr(client_of, "get_client"):
        return None
    return client_of.get_client(write=True)


def count_commands(key: str, ttl: int, *, backend: Any = None) -> list[tuple[Any, ...]]:
    """The commands of an atomic count of ``key`` (a cache key) that expires ``ttl``
    seconds after it was created: ``INCR`` (its reply is the count) and ``EXPIRE … NX``.
    ``backend``: the default cache, when the caller bound it already (each use of
    ``cache`` is a lookup)."""
    raw = (backend or cache).make_key(key)
    return [("INCR", raw), ("EXPIRE", raw, ttl, "NX")]


def round_trip(redis: Any, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Send ``commands`` in one write and read their replies, in order: what
    ``redis.pipeline(transaction=False)`` sends, without the pipeline's per-command
    bookkeeping (command stack, reply callbacks, observability hooks), which cost a cached
    read about 30 µs of its 350 (docs/performance.md). Replies are Redis's own: integers,
    bytes, lists. A connection error is retried as the client's retry policy says; any
    error drops the connection, so no unread reply is left for its next user."""
    pool = redis.connection_pool
    connection = pool.get_connection()

    def send_and_read() -> list[Any]:
        connection.send_packed_command(connection.pack_commands(commands))
        return [connection.read_response() for _ in commands]

    try:
        return connection.retry.call_with_retry(
            send_and_read, lambda error: connection.disconnect()
        )
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def decode(raw: bytes, *, backend: Any = None) -> Any:
    """A value as django-redis stored it (pickled, or a plain integer)."""
    return (backend or cache).client.decode(raw)  # type: ignore[union-attr]


@dataclass
class Batch:
    """Work that rides on a request's authentication round trip to Redis (``redis``, the
    client the batch's maker looked up already): entries the view will read (``keys`` →
    ``found``) and counters it will count (``counters`` → ``counts``; None when Redis was
    unreachable). Filled by accounts.selectors.token_principal."""

    redis: Any
    keys: list[str] = field(default_factory=list)
    counters: list[tuple[str, int]] = field(default_factory=list)
    found: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int | None] = field(default_factory=dict)


def request_batch(request: Any) -> Batch | None:
    """The batch authentication ran for this request, if any."""
    batch = getattr(request, "cache_batch", None)
    return batch if isinstance(batch, Batch) else None
