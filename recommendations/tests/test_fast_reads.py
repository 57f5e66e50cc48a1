"""CachedReadMiddleware: cached reads of one's own insights answered before routing and DRF.

Every answer it gives must be the full stack's answer, byte for byte and header for header;
everything else must reach the full stack, counted once. Whether DRF ran is seen by wrapping
``APIView.dispatch`` (the real one still runs)."""

from __future__ import annotations

import logging
import os
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.views import APIView

from recommendations.cache import cache_stats
from tests.support.clients import INSIGHTS, SignedIn, sign_in
from tests.support.commits import stale
from tests.support.insights import approve_all

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the fast path is Redis-only"),
]

# Production's transport security, so the replayed SecurityMiddleware has work to do.
SECURE = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 3600,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "CORS_ALLOWED_ORIGINS": ["https://app.example"],
}
HTTPS: dict[str, Any] = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def seeded(seeded: SignedIn) -> SignedIn:
    """The root fixture's user, with every recommendation approved: what they read."""
    approve_all(seeded.user.id)
    return seeded


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths DRF dispatched (the full stack answered them)."""
    paths: list[str] = []
    real = APIView.dispatch

    def spying(self: APIView, request: Any, *args: Any, **kwargs: Any) -> Any:
        paths.append(request.path)
        return real(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", spying)
    return paths


def client_for(signed_in: SignedIn) -> APIClient:
    """A new client (its own middleware chain, built from the settings of the moment)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.access}")
    return client


def both_ways(signed_in: SignedIn, url: str, **extra: Any) -> tuple[Any, Any]:
    """The answer with the fast path on, then with it off (the full stack)."""
    fast = client_for(signed_in).get(url, **extra)
    with override_settings(INSIGHTS_FAST_READS=False):
        full = client_for(signed_in).get(url, **extra)
    return fast, full


def same_answer(fast: Any, full: Any) -> None:
    assert fast.status_code == full.status_code
    assert fast.content == full.content
    volatile = {"X-Request-ID"}
    assert {k: v for k, v in fast.headers.items() if k not in volatile} == {
        k: v for k, v in full.headers.items() if k not in volatile
    }


@override_settings(**SECURE)
@pytest.mark.parametrize("path", INSIGHTS)
@pytest.mark.parametrize("role", ["user", "operator"])
def test_the_fast_answer_is_the_full_stacks_answer(
    seeded: SignedIn, operator_user: Any, dispatched: list[str], path: str, role: str
) -> None:
    caller = seeded
    if role == "operator":
        from accounts.models import ConsentStatus

        operator_user.consent_status = ConsentStatus.GRANTED
        operator_user.save()
        caller = sign_in(operator_user)
    url = f"/api/v1/users/me/{path}"
    client_for(caller).get(url, **HTTPS)  # a miss: the full stack fills the cache
    dispatched.clear()

    fast, full = both_ways(caller, url, **HTTPS)

    assert fast.status_code == HTTPStatus.OK
    assert dispatched == [url]  # only the full-stack request reached DRF
    same_answer(fast, full)
    assert fast["Strict-Transport-Security"].startswith("max-age=3600")
    assert fast["Vary"] == "origin"


def test_a_fast_answer_costs_one_round_trip_and_no_query(
    seeded: SignedIn,
    dispatched: list[str],
    round_trips: list[int],
    django_assert_num_queries: Any,
) -> None:
    url = "/api/v1/users/me/signals"
    seeded.client.get(url)
    dispatched.clear()
    round_trips.clear()

    with django_assert_num_queries(0):
        assert seeded.client.get(url).status_code == HTTPStatus.OK

    assert dispatched == []
    assert len(round_trips) == 1


@override_settings(**SECURE)
@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("a query string", {"QUERY_STRING": "page=1"}),
        ("a non-JSON Accept", {"HTTP_ACCEPT": "text/html"}),
        ("an Accept with parameters", {"HTTP_ACCEPT": "application/json; indent=2"}),
        ("plain http (redirected)", {"HTTP_X_FORWARDED_PROTO": "http"}),
        ("a host not allowed", {"HTTP_HOST": "evil.example"}),
    ],
)
def test_what_it_does_not_answer_reaches_the_full_stack(
    seeded: SignedIn, dispatched: list[str], case: str, extra: dict[str, Any]
) -> None:
    url = "/api/v1/users/me/recommendations"
    seeded.client.get(url, **HTTPS)
    dispatched.clear()

    fast, full = both_ways(seeded, url, **{**HTTPS, **extra})

    same_answer(fast, full)
    reached_drf = fast.status_code not in (HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.BAD_REQUEST)
    assert len(dispatched) == (2 if reached_drf else 0), case


@override_settings(**SECURE)
@pytest.mark.parametrize("origin", ["https://app.example", "https://evil.example"])
def test_cross_origin_reads_get_cors_headers_from_cors_itself(
    seeded: SignedIn, dispatched: list[str], origin: str
) -> None:
    """Every middleware runs before this one, django-cors-headers included: an allowed origin
    gets its Access-Control headers, another gets none, exactly as through the view."""
    url = "/api/v1/users/me/recommendations"
    seeded.client.get(url, **HTTPS)
    dispatched.clear()

    fast, full = both_ways(seeded, url, **HTTPS, HTTP_ORIGIN=origin)

    same_answer(fast, full)
    assert dispatched == [url]
    allowed = fast.headers.get("Access-Control-Allow-Origin")
    assert allowed == (origin if origin == "https://app.example" else None)


def test_an_accept_listing_json_is_answered_fast(seeded: SignedIn, dispatched: list[str]) -> None:
    url = "/api/v1/users/me/persona"
    seeded.client.get(url)
    dispatched.clear()

    fast, full = both_ways(seeded, url, HTTP_ACCEPT="application/json, text/plain, */*")

    same_answer(fast, full)
    assert len(dispatched) == 1


@pytest.mark.parametrize(
    ("case", "authorization", "status", "code"),
    [
        ("no token", None, HTTPStatus.UNAUTHORIZED, "not_authenticated"),
        ("a forged token", "Bearer abc.def.ghi", HTTPStatus.UNAUTHORIZED, "token_not_valid"),
        ("an API key", "Api-Key nope.nope", HTTPStatus.UNAUTHORIZED, "api_key_not_valid"),
    ],
)
def test_callers_without_a_good_token_get_the_full_stacks_401(
    seeded: SignedIn, case: str, authorization: str | None, status: int, code: str
) -> None:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get("/api/v1/users/me/signals")

    assert response.status_code == status, case
    assert response.json()["errors"][0]["code"] == code


def test_a_revoked_session_is_refused_at_once(seeded: SignedIn, dispatched: list[str]) -> None:
    url = "/api/v1/users/me/signals"
    assert seeded.client.get(url).status_code == HTTPStatus.OK
    assert seeded.client.post("/api/v1/auth/logout", {"refresh": seeded.refresh}).status_code in (
        HTTPStatus.OK,
        HTTPStatus.NO_CONTENT,
    )

    response = seeded.client.get(url)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_withdrawn_consent_is_refused_at_once(seeded: SignedIn) -> None:
    url = "/api/v1/users/me/profile"
    assert seeded.client.get(url).status_code == HTTPStatus.OK
    assert seeded.client.delete("/api/v1/consent").status_code < HTTPStatus.BAD_REQUEST

    response = seeded.client.get(url)

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_consent_is_checked_even_with_a_body_cached(
    seeded: SignedIn, dispatched: list[str]
) -> None:
    """Withdrawing consent bumps the cache version, so this state is not reached through the
    API; the check stands anyway: a cached row without consent is refused like the database's."""
    from accounts.models import ConsentStatus, User
    from accounts.selectors import PRINCIPAL, PRINCIPAL_FIELDS
    from spendsense import coherence

    url = "/api/v1/users/me/signals"
    assert seeded.client.get(url).status_code == HTTPStatus.OK
    user_id = seeded.user.id
    version = coherence.current_version(user_id)
    row = User.objects.filter(pk=user_id).values(*PRINCIPAL_FIELDS).get()
    row["consent_status"] = ConsentStatus.REVOKED
    assert coherence.store(user_id, PRINCIPAL, row, version=version, ttl=60)
    dispatched.clear()

    response = seeded.client.get(url)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert dispatched == [url]


def test_the_throttle_counts_each_read_once(
    seeded: SignedIn, monkeypatch: pytest.MonkeyPatch, dispatched: list[str]
) -> None:
    from spendsense.api.throttles import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "4/hour", "anon": None})
    url = "/api/v1/users/me/signals"
    cache.delete_pattern("*throttle_user_*")  # type: ignore[attr-defined]  # seeding counted
    stale(seeded.user.id)  # the first read is a miss, handed over
    dispatched.clear()

    codes = [seeded.client.get(url).status_code for _ in range(5)]

    # A miss, three fast answers, then the fifth is over the rate: the full stack says 429.
    assert codes == [200, 200, 200, 200, 429]
    assert dispatched == [url, url]
    (counter,) = cache.keys("*throttle_user_*")  # type: ignore[attr-defined]
    assert cache.get(counter) == 5


def test_a_miss_is_handed_over_with_its_round_trip(seeded: SignedIn, dispatched: list[str]) -> None:
    from datetime import date

    from django.utils import timezone

    url = "/api/v1/users/me/persona"
    today: list[date] = [timezone.now().date()]
    seeded.client.get(url)
    stale(seeded.user.id)
    start = cache_stats(days=today)
    dispatched.clear()

    assert seeded.client.get(url).status_code == HTTPStatus.OK  # a miss: handed over
    assert seeded.client.get(url).status_code == HTTPStatus.OK  # a hit: answered here

    end = cache_stats(days=today)
    assert dispatched == [url]
    assert (end["hits"] - start["hits"], end["misses"] - start["misses"]) == (1, 1)


def test_the_access_line_names_the_caller(
    seeded: SignedIn, dispatched: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = "/api/v1/users/me/signals"
    seeded.client.get(url)
    dispatched.clear()

    with caplog.at_level(logging.INFO, logger="spendsense.access"):
        seeded.client.get(url)

    record = next(r for r in caplog.records if r.name == "spendsense.access")
    assert dispatched == []
    assert record.__dict__["user_id"] == str(seeded.user.id)
    assert record.__dict__["status"] == HTTPStatus.OK


def test_it_can_be_turned_off(seeded: SignedIn, dispatched: list[str]) -> None:
    url = "/api/v1/users/me/signals"
    seeded.client.get(url)
    dispatched.clear()

    with override_settings(INSIGHTS_FAST_READS=False):
        assert client_for(seeded).get(url).status_code == HTTPStatus.OK

    assert dispatched == [url]


class StampMiddleware:
    """A middleware the fast path has never heard of."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        response["X-Stamped"] = "yes"
        return response


def test_every_other_middleware_runs_for_a_fast_answer(
    seeded: SignedIn, dispatched: list[str]
) -> None:
    """Last in MIDDLEWARE, like FetchFromCacheMiddleware: a middleware added anywhere before it
    runs for fast answers as for any other, with nothing to declare."""
    from django.conf import settings

    url = "/api/v1/users/me/signals"
    seeded.client.get(url)
    dispatched.clear()
    middleware = [f"{__name__}.StampMiddleware", *settings.MIDDLEWARE]

    with override_settings(MIDDLEWARE=middleware):
        response = client_for(seeded).get(url)

    assert settings.MIDDLEWARE[-1] == "recommendations.api.fast_reads.CachedReadMiddleware"
    assert response.status_code == HTTPStatus.OK
    assert dispatched == []
    assert response["X-Stamped"] == "yes"
