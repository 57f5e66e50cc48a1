"""Query counts of every read endpoint: a cached read costs no database query at all."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest

from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.commits import stale
from tests.support.consent import grant_consent
from tests.support.factories.accounts import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(consented: SignedIn) -> SignedIn:
    upload(consented.client, json.dumps(synthetic_user(3, 8).body).encode())
    Recommendation.objects.filter(user=consented.user).update(status="approved")
    stale(consented.user.id)
    return consented


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/me/profile",
        "/api/v1/users/me/signals",
        "/api/v1/users/me/persona",
        "/api/v1/users/me/recommendations",
        "/api/v1/users/me/recommendations?page=1&page_size=2",
    ],
)
def test_cached_insight_reads_cost_no_query(
    seeded: SignedIn, path: str, django_assert_num_queries: Any
) -> None:
    assert seeded.client.get(path).status_code == HTTPStatus.OK  # warms the caches

    with django_assert_num_queries(0):
        response = seeded.client.get(path)

    assert response.status_code == HTTPStatus.OK


def test_users_me_reads_its_row_in_one_query(
    signed_in: SignedIn, django_assert_num_queries: Any
) -> None:
    """Authentication costs no query (the principal is cached); showing the whole user to
    themselves reads their row, with the authenticator, once."""
    signed_in.client.get("/api/v1/users/me")

    with django_assert_num_queries(1):
        assert signed_in.client.get("/api/v1/users/me").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/consent", 1),
        ("/api/v1/data/upload", 2),
        ("/api/v1/recommendations/{rec}", 1),
    ],
)
def test_uncached_reads_are_bounded(
    seeded: SignedIn, path: str, limit: int, django_assert_max_num_queries: Any
) -> None:
    rec = Recommendation.objects.filter(user=seeded.user).first()
    url = path.format(rec=rec.pk if rec else "")
    seeded.client.get(url)

    with django_assert_max_num_queries(limit):
        assert seeded.client.get(url).status_code == HTTPStatus.OK


def test_upload_detail_is_bounded(seeded: SignedIn, django_assert_max_num_queries: Any) -> None:
    upload_id = seeded.client.get("/api/v1/data/upload").json()["results"][0]["upload_id"]

    with django_assert_max_num_queries(1):
        assert seeded.client.get(f"/api/v1/data/upload/{upload_id}").status_code == HTTPStatus.OK


@pytest.mark.parametrize("page_size", [5, 50])
def test_operator_queue_does_not_grow_with_the_page(
    seeded: SignedIn, page_size: int, django_assert_max_num_queries: Any
) -> None:
    operator = sign_in(OperatorFactory.create())
    operator.client.get("/api/v1/operator/review")

    with django_assert_max_num_queries(3):
        assert (
            operator.client.get(f"/api/v1/operator/review?page_size={page_size}").status_code
            == HTTPStatus.OK
        )


@pytest.mark.parametrize("name", ["profile", "signals", "persona", "recommendations"])
def test_an_operator_reading_a_user_costs_no_query(
    seeded: SignedIn, name: str, django_assert_num_queries: Any
) -> None:
    operator = sign_in(OperatorFactory.create())
    url = f"/api/v1/users/{seeded.user.id}/{name}"
    operator.client.get(url)

    # The target's row comes from the cache as the caller's does (its version changes with
    # every change to the user), and so does the body.
    with django_assert_num_queries(0):
        assert operator.client.get(url).status_code == HTTPStatus.OK


def test_a_review_item_is_bounded(seeded: SignedIn, django_assert_max_num_queries: Any) -> None:
    operator = sign_in(OperatorFactory.create())
    rec = Recommendation.objects.filter(user=seeded.user).first()
    assert rec is not None
    url = f"/api/v1/operator/review/{rec.pk}"
    operator.client.get(url)

    with django_assert_max_num_queries(2):  # the item, its signal snapshot
        assert operator.client.get(url).status_code == HTTPStatus.OK


ANALYTICS = [
    "/api/v1/operator/analytics",
    "/api/v1/operator/analytics/coverage",
    "/api/v1/operator/analytics/performance",
]


def _query_counts(client: Any, django_assert_max_num_queries: Any) -> list[int]:
    counts = []
    for url in ANALYTICS:
        with django_assert_max_num_queries(15) as captured:
            assert client.get(url).status_code == HTTPStatus.OK
        counts.append(len(captured.captured_queries))
    return counts


def test_analytics_do_not_grow_with_the_users(
    seeded: SignedIn, django_assert_max_num_queries: Any
) -> None:
    operator = sign_in(OperatorFactory.create())
    operator.client.get("/api/v1/users/me")  # caches the operator's own row
    with_one = _query_counts(operator.client, django_assert_max_num_queries)

    for seed in (4, 5):
        other = sign_in(grant_consent(UserFactory.create()))
        upload(other.client, json.dumps(synthetic_user(seed, 8).body).encode())
    with_three = _query_counts(operator.client, django_assert_max_num_queries)

    assert with_three == with_one


def test_health_and_jwks_cost_no_query(api_client: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert api_client.get("/health").status_code == HTTPStatus.OK
        assert api_client.get("/.well-known/jwks.json").status_code == HTTPStatus.OK
