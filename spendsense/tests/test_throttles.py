"""Atomic throttle counting and client identity behind proxies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.test import override_settings
from rest_framework.test import APIClient, APIRequestFactory

from spendsense.api.throttles import IPRateThrottle, throttle_for

pytestmark = pytest.mark.urls("spendsense.tests.urls")


class FiveAMinute(IPRateThrottle):
    scope = "five"
    THROTTLE_RATES = {"five": "5/minute"}


def test_concurrent_hits_are_counted_exactly() -> None:
    throttle = FiveAMinute()

    with ThreadPoolExecutor(max_workers=10) as pool:
        allowed = list(pool.map(lambda _: FiveAMinute().hit("throttle_five_1.2.3.4"), range(40)))

    assert allowed.count(True) == 5
    assert throttle.hit("throttle_five_1.2.3.4") is False


def test_each_ip_has_its_own_count() -> None:
    factory = APIRequestFactory()
    first = factory.get("/", REMOTE_ADDR="10.0.0.1")
    second = factory.get("/", REMOTE_ADDR="10.0.0.2")

    first_ip = [FiveAMinute().allow_request(first, None) for _ in range(6)]  # type: ignore[arg-type]
    second_ip = FiveAMinute().allow_request(second, None)  # type: ignore[arg-type]

    assert first_ip == [True] * 5 + [False]
    assert second_ip is True


def test_forged_forwarded_for_does_not_reset_the_limit(api_client: APIClient) -> None:
    statuses = [
        api_client.get(
            "/probe/throttled", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(5)
    ]

    assert statuses == [HTTPStatus.OK] * 3 + [HTTPStatus.TOO_MANY_REQUESTS] * 2


@override_settings(REST_FRAMEWORK={"NUM_PROXIES": 1})
def test_behind_one_proxy_the_last_forwarded_address_is_the_client() -> None:
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        factory = APIRequestFactory()
        # The client forged the first entry; the ALB appended the real address last.
        forged = [
            factory.get(
                "/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7"
            )
            for n in range(6)
        ]
        results = [FiveAMinute().allow_request(request, None) for request in forged]  # type: ignore[arg-type]
    finally:
        api_settings.reload()

    assert results == [True] * 5 + [False]


def test_throttle_for_builds_a_named_ip_throttle() -> None:
    throttle_class = throttle_for("login")

    assert issubclass(throttle_class, IPRateThrottle)
    assert throttle_class.scope == "login"
    assert throttle_class().rate == "5/hour"
