"""The insight endpoints and the engine's persistence, through the real upload pipeline."""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache

from recommendations.engine.choose import DISCLAIMER
from recommendations.models import Feedback, PersonaAssignment, Recommendation, SignalSnapshot
from recommendations.services import user_recompute
from recommendations.synthetic import synthetic_user
from tests.support.clients import INSIGHTS, SignedIn, sign_in, upload
from tests.support.commits import committed
from tests.support.consent import grant_consent
from tests.support.factories.accounts import OperatorFactory, UserFactory
from tests.support.insights import RECOMMENDATION_FIELDS, approve_all, seed, stored

pytestmark = pytest.mark.django_db


def test_signals_shape(seeded: SignedIn) -> None:
    body = seeded.client.get("/api/v1/users/me/signals").json()

    assert body["as_of"] == "2026-10-31"
    assert set(body["windows"]) == {"30d", "180d"}
    window = body["windows"]["30d"]
    assert set(window) >= {"subscriptions", "savings", "credit", "income"}
    card = window["credit"]["cards"][0]
    assert 0.68 <= card["utilization"] < 0.81  # a fraction, per card, with its mask
    assert len(card["mask"]) == 4


def test_persona_shape_and_history(seeded: SignedIn) -> None:
    body = seeded.client.get("/api/v1/users/me/persona").json()

    assert body["current"]["30d"]["persona"] == "high_utilization"
    assert "high_utilization" in body["current"]["30d"]["matched"]
    assert {h["window"] for h in body["history"]} == {"30d", "180d"}
    # A recompute that changes nothing adds no history; a change does.
    user_recompute(user_id=seeded.user.id)
    assert PersonaAssignment.objects.filter(user=seeded.user).count() == 2


def test_users_see_only_approved_recommendations(seeded: SignedIn) -> None:
    pending = seeded.client.get("/api/v1/users/me/recommendations").json()
    assert pending["count"] == 0
    assert pending["as_of"] == "2026-10-31"

    approve_all(seeded.user.id)
    body = seeded.client.get("/api/v1/users/me/recommendations").json()

    # Every item the engine made (between 4 and 8 for this user), once approved.
    assert body["count"] == Recommendation.objects.filter(user=seeded.user).count()
    assert 4 <= body["count"] <= 8
    item = body["results"][0]
    assert set(item) == RECOMMENDATION_FIELDS
    assert all(r["disclaimer"] == DISCLAIMER for r in body["results"])
    assert any("%" in r["rationale"] or "$" in r["rationale"] for r in body["results"])
    detail = seeded.client.get(f"/api/v1/recommendations/{item['id']}")
    assert detail.status_code == HTTPStatus.OK
    assert "decision_trace" not in detail.json()


def test_operators_see_every_status_with_the_trace(seeded: SignedIn) -> None:
    operator = sign_in(OperatorFactory.create())

    body = operator.client.get(
        f"/api/v1/users/{seeded.user.id}/recommendations?status=pending"
    ).json()

    made = Recommendation.objects.filter(user=seeded.user, status="pending").count()
    assert body["count"] == made >= 4
    trace = body["results"][0]["decision_trace"]
    assert set(trace) >= {
        "engine_version",
        "catalog_version",
        "inputs",
        "signals",
        "personas",
        "item",
        "window",
        "excluded_offers",
    }
    assert trace["personas"]["30d"]["persona"] == "high_utilization"
    assert body["results"][0]["user_id"] == str(seeded.user.id)
    bad = operator.client.get(f"/api/v1/users/{seeded.user.id}/recommendations?status=maybe")
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["errors"][0]["attr"] == "status"


@pytest.mark.parametrize("path", INSIGHTS)
def test_another_users_insights_are_404(seeded: SignedIn, path: str) -> None:
    stranger = sign_in(grant_consent(UserFactory.create()))

    response = stranger.client.get(f"/api/v1/users/{seeded.user.id}/{path}")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("path", INSIGHTS)
def test_operators_may_read_anyone_and_me_works(seeded: SignedIn, path: str) -> None:
    operator = sign_in(OperatorFactory.create())

    assert (
        operator.client.get(f"/api/v1/users/{seeded.user.id}/{path}").status_code == HTTPStatus.OK
    )
    assert seeded.client.get(f"/api/v1/users/{seeded.user.id}/{path}").status_code == HTTPStatus.OK
    assert (
        operator.client.get(f"/api/v1/users/not-a-uuid/{path}").status_code == HTTPStatus.NOT_FOUND
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert (
        operator.client.get(f"/api/v1/users/{missing}/{path}").status_code == HTTPStatus.NOT_FOUND
    )


@pytest.mark.parametrize("path", INSIGHTS)
def test_without_consent_403(signed_in: SignedIn, path: str) -> None:
    response = signed_in.client.get(f"/api/v1/users/me/{path}")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["errors"][0]["code"] == "consent_required"


@pytest.mark.parametrize("path", INSIGHTS)
def test_a_user_without_consent_is_invisible_to_operators(signed_in: SignedIn, path: str) -> None:
    """404, as for an id that does not exist: an operator learns neither."""
    operator = sign_in(OperatorFactory.create())
    unknown = operator.client.get(f"/api/v1/users/{uuid.uuid4()}/{path}")

    response = operator.client.get(f"/api/v1/users/{signed_in.user.id}/{path}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.content == unknown.content


def test_an_operator_is_refused_at_once_when_the_user_withdraws_consent(
    seeded: SignedIn,
) -> None:
    """The operator's read uses the user's cached row; withdrawing consent must still apply
    to the very next read."""
    operator = sign_in(OperatorFactory.create())
    url = f"/api/v1/users/{seeded.user.id}/signals"
    assert operator.client.get(url).status_code == HTTPStatus.OK
    assert operator.client.get(url).status_code == HTTPStatus.OK  # the row is cached now

    assert seeded.client.delete("/api/v1/consent").status_code < HTTPStatus.BAD_REQUEST
    response = operator.client.get(url)

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("path", INSIGHTS)
def test_with_consent_but_no_data_as_of_is_null(consented: SignedIn, path: str) -> None:
    response = consented.client.get(f"/api/v1/users/me/{path}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["as_of"] is None


@pytest.mark.parametrize("path", INSIGHTS)
def test_anonymous_401(api_client: Any, path: str) -> None:
    assert api_client.get(f"/api/v1/users/me/{path}").status_code == HTTPStatus.UNAUTHORIZED


def test_accounts_only_keeps_as_of_null(consented: SignedIn) -> None:
    upload(
        consented.client, json.dumps({"accounts": synthetic_user(0, 5).body["accounts"]}).encode()
    )

    assert consented.client.get("/api/v1/users/me/signals").json() == {"as_of": None, "windows": {}}
    assert len(consented.client.get("/api/v1/users/me/profile").json()["accounts"]) == 2


def test_profile(seeded: SignedIn) -> None:
    body = seeded.client.get("/api/v1/users/me/profile").json()

    assert body["as_of"] == "2026-10-31"
    assert body["personas"] == {"30d": "high_utilization", "180d": "high_utilization"}
    assert body["consent"]["status"] == "granted"
    assert body["upload_count"] == 1
    assert body["transaction_count"] == len(synthetic_user(0, 5).body["transactions"]) > 50
    assert {a["type"] for a in body["accounts"]} == {"depository", "credit"}


def test_recompute_remakes_pending_and_keeps_decided(seeded: SignedIn) -> None:
    first = list(Recommendation.objects.filter(user=seeded.user))
    kept = first[0]
    Recommendation.objects.filter(pk=kept.pk).update(status="rejected")

    user_recompute(user_id=seeded.user.id)

    after = list(Recommendation.objects.filter(user=seeded.user))
    assert Recommendation.objects.get(pk=kept.pk).status == "rejected"
    # The rejected item is not proposed again.
    assert [r.slug for r in after].count(kept.slug) == 1
    # The pending rows are exactly those a recompute makes from nothing (identical ones keep
    # their ids: recommendations/tests/test_recompute.py).
    pending = [r for r in after if r.status == "pending"]
    Recommendation.objects.filter(user=seeded.user, status="pending").delete()
    user_recompute(user_id=seeded.user.id)
    remade = Recommendation.objects.filter(user=seeded.user, status="pending")
    assert stored(pending) == stored(remade) != []


def test_review_off_publishes_at_once(consented: SignedIn, settings: Any) -> None:
    settings.RECOMMENDATIONS_REQUIRE_REVIEW = False

    seed(consented)

    assert set(
        Recommendation.objects.filter(user=consented.user).values_list("status", flat=True)
    ) == {"approved"}
    made = Recommendation.objects.filter(user=consented.user).count()
    assert consented.client.get("/api/v1/users/me/recommendations").json()["count"] == made >= 4


def test_reads_are_cached_and_invalidated_on_recompute(
    seeded: SignedIn, django_assert_max_num_queries: Any
) -> None:
    seeded.client.get("/api/v1/users/me/signals")
    SignalSnapshot.objects.filter(user=seeded.user).update(data={"tampered": True})

    cached = seeded.client.get("/api/v1/users/me/signals").json()
    with committed():
        user_recompute(user_id=seeded.user.id)
    fresh = seeded.client.get("/api/v1/users/me/signals").json()

    assert cached["windows"]["30d"] != {"tampered": True}  # served from the cache
    assert fresh["windows"]["30d"]["credit"]["cards"]  # recomputed, and the cache followed
    from django.utils import timezone

    from recommendations.cache import cache_stats

    # The first read missed, the second hit, the read after the recompute missed again.
    assert cache_stats(days=[timezone.now().date()]) == {"hits": 1, "misses": 2}


def test_consent_change_invalidates_the_cache(seeded: SignedIn) -> None:
    assert seeded.client.get("/api/v1/users/me/signals").status_code == HTTPStatus.OK

    seeded.client.delete("/api/v1/consent?delete_data=true")
    seeded.client.post("/api/v1/consent", {})

    assert seeded.client.get("/api/v1/users/me/signals").json() == {"as_of": None, "windows": {}}


# --- recommendation detail and feedback --------------------------------------------------


@pytest.fixture
def approved(seeded: SignedIn) -> Recommendation:
    approve_all(seeded.user.id)
    return Recommendation.objects.filter(user=seeded.user).first()  # type: ignore[return-value]


def test_feedback_create_then_update(seeded: SignedIn, approved: Recommendation) -> None:
    url = f"/api/v1/recommendations/{approved.pk}/feedback"

    first = seeded.client.post(url, {"rating": "helpful"})
    second = seeded.client.post(url, {"rating": "not_helpful", "comment": "Already did this."})

    assert first.status_code == HTTPStatus.CREATED
    assert second.status_code == HTTPStatus.OK
    assert second.json()["id"] == first.json()["id"]
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment) == ("not_helpful", "Already did this.")


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({}, "rating"),
        ({"rating": "meh"}, "rating"),
        ({"rating": "helpful", "comment": "x" * 2001}, "comment"),
    ],
)
def test_feedback_bad_input(
    seeded: SignedIn, approved: Recommendation, payload: dict, attr: str
) -> None:
    response = seeded.client.post(f"/api/v1/recommendations/{approved.pk}/feedback", payload)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr
    assert not Feedback.objects.exists()


def test_feedback_idempotency_key(seeded: SignedIn, approved: Recommendation) -> None:
    url = f"/api/v1/recommendations/{approved.pk}/feedback"

    first = seeded.client.post(url, {"rating": "helpful"}, HTTP_IDEMPOTENCY_KEY="fb-1")
    replay = seeded.client.post(url, {"rating": "helpful"}, HTTP_IDEMPOTENCY_KEY="fb-1")
    conflict = seeded.client.post(url, {"rating": "not_helpful"}, HTTP_IDEMPOTENCY_KEY="fb-1")

    assert first.status_code == replay.status_code == HTTPStatus.CREATED
    assert replay.json() == first.json()
    assert conflict.status_code == HTTPStatus.CONFLICT
    assert Feedback.objects.get().rating == "helpful"


def test_feedback_idempotency_key_replays_an_update(
    seeded: SignedIn, approved: Recommendation
) -> None:
    url = f"/api/v1/recommendations/{approved.pk}/feedback"
    assert seeded.client.post(url, {"rating": "helpful"}).status_code == HTTPStatus.CREATED

    update = seeded.client.post(url, {"rating": "not_helpful"}, HTTP_IDEMPOTENCY_KEY="fb-2")
    replay = seeded.client.post(url, {"rating": "not_helpful"}, HTTP_IDEMPOTENCY_KEY="fb-2")

    assert update.status_code == replay.status_code == HTTPStatus.OK
    assert replay.json() == update.json()  # updated_at included: the retry wrote nothing


def test_feedback_idempotency_key_on_another_item_is_409(seeded: SignedIn) -> None:
    approve_all(seeded.user.id)
    first, second = Recommendation.objects.filter(user=seeded.user)[:2]
    url = "/api/v1/recommendations/{}/feedback"

    ok = seeded.client.post(url.format(first.pk), {"rating": "helpful"}, HTTP_IDEMPOTENCY_KEY="k")
    reused = seeded.client.post(
        url.format(second.pk), {"rating": "helpful"}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert ok.status_code == HTTPStatus.CREATED
    assert reused.status_code == HTTPStatus.CONFLICT
    assert reused.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert Feedback.objects.get().recommendation_id == first.pk


def test_feedback_on_someone_elses_item(seeded: SignedIn, approved: Recommendation) -> None:
    stranger = sign_in(grant_consent(UserFactory.create()))
    operator = sign_in(OperatorFactory.create())
    url = f"/api/v1/recommendations/{approved.pk}/feedback"

    assert stranger.client.post(url, {"rating": "helpful"}).status_code == HTTPStatus.NOT_FOUND
    assert operator.client.post(url, {"rating": "helpful"}).status_code == HTTPStatus.FORBIDDEN
    assert not Feedback.objects.exists()


def test_pending_items_are_invisible_to_their_owner(seeded: SignedIn) -> None:
    pending = Recommendation.objects.filter(user=seeded.user).first()
    assert pending is not None

    assert (
        seeded.client.get(f"/api/v1/recommendations/{pending.pk}").status_code
        == HTTPStatus.NOT_FOUND
    )
    assert (
        seeded.client.get("/api/v1/recommendations/not-a-uuid").status_code == HTTPStatus.NOT_FOUND
    )


def test_erasure_removes_derived_rows(seeded: SignedIn) -> None:
    seeded.client.delete("/api/v1/consent?delete_data=true")

    for model in (SignalSnapshot, PersonaAssignment, Recommendation):
        assert not model.objects.filter(user=seeded.user).exists()
    assert cache.get("nothing") is None
