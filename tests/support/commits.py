"""Running test code as production runs it: commits that fire their on-commit callbacks,
callers racing from their own threads, and a user's cached entries made stale."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.db import connections
from django.test import TestCase

from spendsense import coherence

_capturing = threading.local()


@contextmanager
def committed() -> Iterator[None]:
    """What runs inside commits as in production: the callbacks it registers on commit (cache
    bumps, the processing task) run at its end. Tests run in a transaction that never commits,
    so without this those callbacks would never run. Nested, only the outermost runs them:
    Django's capture leaves them registered, and an inner one would run them twice."""
    if getattr(_capturing, "active", False):
        yield
        return
    _capturing.active = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield
    finally:
        _capturing.active = False


def concurrently(count: int, call: Callable[[], Any]) -> list[Any]:
    """``call`` from ``count`` threads released together by a barrier (each with its own
    database connection, closed after): what each returned, in no particular order."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stale(user_id: Any) -> None:
    """Make every cached entry of the user stale, as any change to them does once committed."""
    with committed():
        coherence.user_changed(user_id)


def call_command_committed(*args: Any, **kwargs: Any) -> None:
    """Run a management command; what it enqueues on commit runs as after a real commit."""
    with committed():
        call_command(*args, **kwargs)
