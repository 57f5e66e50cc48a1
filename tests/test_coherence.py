"""spendsense.coherence: versions bumped on commit, late writes refused, erasure complete.

The races run on real PostgreSQL with two connections (threads) and a barrier: the writer
changes a user and stops before committing; the reader reads and caches in that gap."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from accounts.models import ConsentStatus, Role, User
from accounts.selectors import PRINCIPAL, user_row
from spendsense import coherence
from tests.support.commits import committed
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections, one transaction left open")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("field", "value"),
    [("consent_status", ConsentStatus.REVOKED), ("role", Role.OPERATOR)],
)
def test_a_read_inside_a_change_never_caches_the_old_state_under_the_new_version(
    field: str, value: str
) -> None:
    needs_postgres()
    user = grant_consent(UserFactory.create())
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with transaction.atomic():
                changed = User.objects.get(pk=user.pk)
                setattr(changed, field, value)
                changed.save()
                barrier.wait()  # changed, not committed: the reader reads now
                barrier.wait()  # the reader has read (and cached what it saw)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def reader() -> None:
        try:
            barrier.wait()
            seen = user_row(user_id=user.pk)  # a miss: reads the old row, caches it
            assert seen is not None
            assert getattr(seen, field) != value  # the change is not committed yet
            barrier.wait()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    after = user_row(user_id=user.pk)
    assert after is not None
    assert getattr(after, field) == value


def test_a_write_after_a_bump_is_refused() -> None:
    """A reader that read version v, then the database, must not store what it read once the
    version has moved on: the change committed in between."""
    user = UserFactory.create()
    version = coherence.current_version(user.pk)
    with committed():
        coherence.user_changed(user.pk)

    stored = coherence.store(user.pk, PRINCIPAL, {"stale": True}, version=version, ttl=60)

    assert stored is False
    assert coherence.entries_read(user.pk, [PRINCIPAL])[1] == {}


def test_a_bump_waits_for_the_commit() -> None:
    user = UserFactory.create()
    before = coherence.current_version(user.pk)

    with committed():
        with transaction.atomic():
            coherence.user_changed(user.pk)
            assert coherence.current_version(user.pk) == before  # still open: nothing moved
        inside = coherence.current_version(user.pk)

    assert inside == before  # the test's outer transaction had not committed either
    assert coherence.current_version(user.pk) == before + 1


def test_a_rolled_back_change_bumps_nothing() -> None:
    user = UserFactory.create()
    before = coherence.current_version(user.pk)

    with committed():
        try:
            with transaction.atomic():
                changed = User.objects.get(pk=user.pk)
                changed.username = "never"
                changed.save()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

    assert coherence.current_version(user.pk) == before


def test_erasure_deletes_every_entry_of_the_user(settings: Any) -> None:
    user = UserFactory.create()
    other = UserFactory.create()
    for name in (PRINCIPAL, "body:signals", "body:recommendations:abc"):
        assert coherence.store(user.pk, name, f"{name} of {user.pk}", version=0, ttl=60)
    assert coherence.store(other.pk, "body:signals", "other's", version=0, ttl=60)

    with committed():
        coherence.user_erased(user.pk)

    names = [PRINCIPAL, "body:signals", "body:recommendations:abc"]
    assert coherence.entries_read(user.pk, names) == (1, {})
    assert coherence.entries_read(other.pk, ["body:signals"]) == (0, {"body:signals": "other's"})


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="what Redis holds")
def test_erasure_leaves_no_entry_key_in_redis() -> None:
    from django.core.cache import cache

    user = UserFactory.create()
    for name in (PRINCIPAL, "body:profile"):
        coherence.store(user.pk, name, "x", version=0, ttl=60)
    with committed():
        coherence.user_erased(user.pk, account_deleted=True)

    left = cache.keys(f"user:{user.pk}:*")  # type: ignore[attr-defined]
    assert left == [coherence.version_key(user.pk)]  # a counter, and it expires
    assert 0 < cache.ttl(coherence.version_key(user.pk)) <= coherence.ERASED_VERSION_SECONDS  # type: ignore[attr-defined]
