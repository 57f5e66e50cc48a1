"""Database routing: reads that may come from the read replica, and the rule for when.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` alias. Nothing reads from it
unless the code around the read says so with :func:`replica_reads`: analytics, exports and
the review queue's GETs do (operator_console). Everything else — authentication, consent,
a user's own reads and writes, recompute, every write and every read inside a write — stays
on ``default``. A caller whose write request (API or console) succeeded in the last
``REPLICA_PIN_SECONDS`` reads from ``default`` instead (:func:`pin_to_primary`), so they
never read past their own write while the replica lags. Without the alias every read goes
to ``default`` and these functions change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _pin_key(caller: Any) -> str:
    return f"db:primary-pin:{caller}"


def pin_to_primary(caller: Any) -> None:
    """``caller`` (a user or key id) wrote: their reads stay on ``default`` for a while."""
    if caller is not None and replica_configured():
        cache.set(_pin_key(caller), 1, timeout=settings.REPLICA_PIN_SECONDS)


def may_read_replica(caller: Any) -> bool:
    """Whether ``caller``'s reads may come from the replica now."""
    return replica_configured() and (caller is None or cache.get(_pin_key(caller)) is None)


@contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Reads inside (outside a transaction) come from the replica when there is one."""
    token = _replica_reads.set(enabled)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads_begin(enabled: bool = True) -> Any:
    """:func:`replica_reads` for code that enters and leaves in two places (a view's
    ``initial`` and ``finalize_response``); pass the token to :func:`replica_reads_end`."""
    return _replica_reads.set(enabled)


def replica_reads_end(token: Any) -> None:
    _replica_reads.reset(token)


class ReplicaRouter:
    """Reads go to ``replica`` only inside :func:`replica_reads` and never inside a
    transaction on ``default`` (a read there may need to see the transaction's writes);
    writes and migrations always go to ``default``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if (
            _replica_reads.get()
            and replica_configured()
            and not connections["default"].in_atomic_block
        ):
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of default: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA
