"""Running test code as production runs it: commits that fire their on-commit callbacks,
callers racing from their own threads (together, or one held at a
point while another acts), and a user's cached entries made stale."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
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


@dataclass
class Outcome:
    """What a racing thread's work returned, or raised."""

    result: Any = None
    error: BaseException | None = None


@contextmanager
def paused_after(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    work: Callable[[], Any],
    *,
    call: int = 1,
) -> Iterator[Outcome]:
    """``work`` in its own thread (with its own database connection), held right after
    ``owner.name`` returns there for the ``call``-th time: the body runs while it waits. On
    leaving, the thread goes on and is joined; the outcome holds what ``work`` returned or
    raised."""
    barrier = threading.Barrier(2, timeout=20)
    real = getattr(owner, name)
    outcome = Outcome()
    calls = itertools.count(1)

    def paused(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        if next(calls) == call:
            barrier.wait()  # held: the body runs now
            barrier.wait()  # the body is done: go on
        return answer

    def run() -> None:
        try:
            outcome.result = work()
        except BaseException as error:  # pragma: no cover - reported by the test
            outcome.error = error
        finally:
            connections.close_all()

    monkeypatch.setattr(owner, name, paused)
    thread = threading.Thread(target=run)
    thread.start()
    barrier.wait()
    try:
        yield outcome
    finally:
        barrier.wait()
        thread.join()


def stale(user_id: Any) -> None:
    """Make every cached entry of the user stale, as any change to them does once committed."""
    with committed():
        coherence.user_changed(user_id)


def call_command_committed(*args: Any, **kwargs: Any) -> None:
    """Run a management command; what it enqueues on commit runs as after a real commit."""
    with committed():
        call_command(*args, **kwargs)
