"""The cached read's hot path on Redis: one round trip to the cache and no query, with the
user throttle and the cache statistics still exact. Round trips are counted by wrapping
redis-py's own send (the commands still reach the real Redis)."""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from recommendations.cache import cache_stats
from tests.support.clients import INSIGHTS, SignedIn, sign_in
from tests.support.commits import stale
from tests.support.insights import approve_all

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the batching is Redis-only"),
]


@pytest.fixture
def seeded(seeded: SignedIn) -> SignedIn:
    """The root fixture's user, with every recommendation approved: what they read."""
    approve_all(seeded.user.id)
    return seeded


@pytest.mark.parametrize("path", INSIGHTS)
def test_a_cached_read_is_one_round_trip_and_no_query(
    seeded: SignedIn, round_trips: list[int], path: str, django_assert_num_queries: Any
) -> None:
    url = f"/api/v1/users/me/{path}"
    first = seeded.client.get(url)  # fills the caches
    round_trips.clear()

    with django_assert_num_queries(0):
        again = seeded.client.get(url)

    assert again.status_code == HTTPStatus.OK
    assert again.content == first.content
    assert len(round_trips) == 1


def test_reading_someone_else_costs_more_round_trips(
    seeded: SignedIn, operator_user: User, round_trips: list[int]
) -> None:
    operator_signed_in = sign_in(operator_user)
    url = f"/api/v1/users/{seeded.user.id}/signals"
    assert operator_signed_in.client.get(url).status_code == HTTPStatus.OK
    round_trips.clear()

    assert operator_signed_in.client.get(url).status_code == HTTPStatus.OK

    # Not prefetched (not the caller's own): the target's version and row, then the body.
    assert len(round_trips) == 3


def test_the_user_throttle_still_counts_every_cached_read(
    seeded: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendsense.api.throttles import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/hour", "anon": None})
    cache.delete_pattern("*throttle_user_*")  # type: ignore[attr-defined]  # seeding counted
    codes = [seeded.client.get("/api/v1/users/me/signals").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


def test_a_stale_prefetched_body_is_rebuilt(seeded: SignedIn) -> None:
    before = seeded.client.get("/api/v1/users/me/signals").json()
    from recommendations.models import SignalSnapshot

    SignalSnapshot.objects.filter(user=seeded.user).update(data={"tampered": True})
    stale(seeded.user.id)

    after = seeded.client.get("/api/v1/users/me/signals").json()

    assert before["windows"]["30d"] != {"tampered": True}
    assert after["windows"]["30d"] == {"tampered": True}


def test_lookups_counted_in_the_batch_feed_the_statistics(seeded: SignedIn) -> None:
    today = [timezone.now().date()]
    seeded.client.get("/api/v1/users/me/persona")  # a miss
    start = cache_stats(days=today)

    for _ in range(3):
        seeded.client.get("/api/v1/users/me/persona")

    end = cache_stats(days=today)
    assert end["hits"] - start["hits"] == 3
    assert end["misses"] == start["misses"]
