"""spendsense.redis: one round trip of raw commands, on the real Redis."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis as redis_py
from django.core.cache import cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from spendsense.redis import count_commands, redis_client, round_trip

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="Redis only")


@pytest.fixture
def raw() -> Any:
    """The client behind the default cache, the one the hot path uses."""
    found = redis_client()
    assert found is not None
    return found


def test_replies_come_back_in_order_in_one_write(raw: Any, round_trips: list[int]) -> None:
    cache.set("a", "first")
    commands = [("GET", cache.make_key("a")), *count_commands("n", 60), ("GET", "missing")]

    round_trips.clear()  # the set above was one

    first = round_trip(raw, commands)
    second = round_trip(raw, commands)

    assert len(round_trips) == 2
    assert first[0] == second[0] == raw.get(cache.make_key("a"))
    assert [first[1], second[1]] == [1, 2]  # the count
    assert [first[2], second[2]] == [1, 0]  # EXPIRE NX: set once, then left alone
    assert first[3] is None
    assert 0 < raw.ttl(cache.make_key("n")) <= 60


def test_an_error_reply_raises_and_leaves_nothing_unread(raw: Any) -> None:
    raw.set("text", b"not a number")
    raw.set("after", b"after")

    with pytest.raises(redis_py.ResponseError):
        round_trip(raw, [("INCR", "text"), ("GET", "after"), ("GET", "after")])

    # The replies after the error were not read; had the connection gone back to the pool
    # as it was, the next caller would read them as its own.
    assert round_trip(raw, [("GET", "text")]) == [b"not a number"]


def test_a_connection_the_server_dropped_is_replaced(raw: Any) -> None:
    (own_id,) = round_trip(raw, [("CLIENT", "ID")])
    other = redis_py.Redis.from_url(os.environ["REDIS_URL"])
    try:
        assert other.client_kill_filter(_id=own_id) == 1
    finally:
        other.close()

    assert round_trip(raw, [("PING",)]) == [b"PONG"]
    (new_id,) = round_trip(raw, [("CLIENT", "ID")])
    assert new_id != own_id


def test_redis_unreachable_raises_a_connection_error() -> None:
    unreachable = redis_py.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))

    with pytest.raises(redis_py.ConnectionError):
        round_trip(unreachable, [("PING",)])
