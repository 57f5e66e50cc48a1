"""/operator: the role matrix, decisions, edits, bulk review, analytics."""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from operator_console.models import RecommendationRevision, SyntheticDemographic
from recommendations.models import Recommendation
from tests.support.clients import REVIEW, SignedIn, key_client, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import AdminFactory, OperatorFactory, UserFactory
from tests.support.factories.recommendations import FeedbackFactory
from tests.support.insights import RECOMMENDATION_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> SignedIn:
    return sign_in(OperatorFactory.create())


def pending(seeded: SignedIn) -> list[Recommendation]:
    return list(
        Recommendation.objects.filter(user=seeded.user, status="pending").order_by(
            "created_at", "slug"
        )
    )


def clients(role: str) -> APIClient:
    if role == "anonymous":
        return APIClient()
    if role == "api_key":
        return key_client()
    factory = {"user": UserFactory, "operator": OperatorFactory, "admin": AdminFactory}[role]
    return sign_in(factory.create()).client


ROLES = ["anonymous", "user", "operator", "admin", "api_key"]
# What each role gets: reading the console (a reporting API key may), and deciding (it may not).
READ = {"anonymous": 401, "user": 403, "operator": 200, "admin": 200, "api_key": 200}
WRITE = {"anonymous": 401, "user": 403, "operator": 200, "admin": 200, "api_key": 403}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", REVIEW, READ),
        ("get", "{review}/{id}", READ),
        ("post", "{review}/{id}/approve", WRITE),
        ("post", "{review}/{id}/reject", WRITE),
        ("put", "{review}/{id}", WRITE),
        ("post", "{review}/bulk", WRITE),
        ("get", "/api/v1/operator/analytics", READ),
        ("get", "/api/v1/operator/analytics/coverage", READ),
        ("get", "/api/v1/operator/analytics/performance", READ),
    ],
)
def test_role_matrix(
    seeded: SignedIn, role: str, method: str, path: str, expected: dict[str, int]
) -> None:
    item = pending(seeded)[0]
    url = path.format(review=REVIEW, id=item.pk)
    body: dict[str, Any] = {}
    if url.endswith("/bulk"):
        body = {"action": "approve", "ids": [str(item.pk)]}
    elif method == "put":
        body = {"title": "Edited title"}

    response = getattr(clients(role), method)(url, body, format="json")

    assert response.status_code == expected[role], response.content[:300]


def test_queue_items_carry_the_full_shape_user_id_and_trace(
    seeded: SignedIn, operator: SignedIn
) -> None:
    body = operator.client.get(f"{REVIEW}?status=pending&ordering=-score").json()

    assert body["count"] == len(pending(seeded))
    item = body["results"][0]
    assert item["user_id"] == str(seeded.user.id)
    assert item["decision_trace"]["item"]["slug"]
    assert set(item) >= RECOMMENDATION_FIELDS
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "matching"),
    [
        ("status=approved", None),
        ("persona=high_utilization", {"persona": "high_utilization"}),
        ("persona=savings_builder", None),
        ("type=partner_offer", {"type": "partner_offer"}),
        ("created_after=2000-01-01T00:00:00Z", {}),
        ("created_before=2000-01-01T00:00:00Z", None),
    ],
)
def test_queue_filters(
    seeded: SignedIn, operator: SignedIn, query: str, matching: dict[str, str] | None
) -> None:
    """Each filter answers exactly the items it matches: some of the seeded user's, or none."""
    body = operator.client.get(f"{REVIEW}?{query}").json()

    if matching is None:
        assert body["count"] == 0
    else:
        expected = Recommendation.objects.filter(user=seeded.user, **matching).count()
        assert body["count"] == expected > 0


def test_queue_filter_by_user(seeded: SignedIn, operator: SignedIn) -> None:
    assert operator.client.get(f"{REVIEW}?user={seeded.user.id}").json()["count"] == len(
        pending(seeded)
    )
    assert operator.client.get(f"{REVIEW}?user={operator.user.id}").json()["count"] == 0


def test_the_queue_counts_up_to_its_cap(
    seeded: SignedIn, operator: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exact below the cap; at the cap beyond it, and the pages past the cap are out of range
    (docs/decisions.md: an exact count scans the whole table)."""
    items = len(pending(seeded))
    assert items >= 3
    monkeypatch.setattr("operator_console.api.pagination.COUNT_CAP", items)
    assert operator.client.get(f"{REVIEW}?status=pending").json()["count"] == items

    monkeypatch.setattr("operator_console.api.pagination.COUNT_CAP", 2)
    first = operator.client.get(f"{REVIEW}?status=pending&page_size=1").json()
    assert first["count"] == 2
    assert len(first["results"]) == 1
    assert first["next"] is not None
    second = operator.client.get(f"{REVIEW}?status=pending&page_size=1&page=2").json()
    assert second["next"] is None
    past = operator.client.get(f"{REVIEW}?status=pending&page_size=1&page=3")
    assert past.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "query", ["status=maybe", "user=nope", "created_after=yesterday", "persona=rich"]
)
def test_queue_bad_filters(operator: SignedIn, query: str) -> None:
    response = operator.client.get(f"{REVIEW}?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == query.split("=")[0]


def test_detail_has_the_users_signals(seeded: SignedIn, operator: SignedIn) -> None:
    body = operator.client.get(f"{REVIEW}/{pending(seeded)[0].pk}").json()

    assert set(body["signals"]["windows"]) == {"30d", "180d"}
    assert operator.client.get(f"{REVIEW}/{uuid.uuid4()}").status_code == HTTPStatus.NOT_FOUND


def test_approve_shows_it_to_the_user_and_is_audited(seeded: SignedIn, operator: SignedIn) -> None:
    item = pending(seeded)[0]
    assert seeded.client.get("/api/v1/users/me/recommendations").json()["count"] == 0

    response = operator.client.post(f"{REVIEW}/{item.pk}/approve", {"reason": "Accurate."})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "approved"
    assert response.json()["approved_by"] == str(operator.user.id)
    assert seeded.client.get("/api/v1/users/me/recommendations").json()["count"] == 1
    event = AuditEvent.objects.get(action="review.approve")
    assert event.actor_id == operator.user.id
    assert event.details["before"]["status"] == "pending"
    assert event.details["after"]["status"] == "approved"
    assert event.details["reason"] == "Accurate."


def test_deciding_twice(seeded: SignedIn, operator: SignedIn) -> None:
    item = pending(seeded)[0]
    operator.client.post(f"{REVIEW}/{item.pk}/approve", {})

    again = operator.client.post(f"{REVIEW}/{item.pk}/approve", {})
    contrary = operator.client.post(f"{REVIEW}/{item.pk}/reject", {"reason": "changed my mind"})

    assert again.status_code == HTTPStatus.OK  # the same decision again changes nothing
    assert contrary.status_code == HTTPStatus.CONFLICT
    assert contrary.json()["errors"][0]["code"] == "already_decided"
    assert Recommendation.objects.get(pk=item.pk).status == "approved"
    assert AuditEvent.objects.filter(action__startswith="review.").count() == 1


def test_an_edit_is_what_the_user_sees_and_is_kept_as_a_revision(
    seeded: SignedIn, operator: SignedIn
) -> None:
    item = pending(seeded)[0]
    original = item.rationale

    response = operator.client.put(
        f"{REVIEW}/{item.pk}",
        {"rationale": "A clearer explanation citing $3,400.", "reason": "clarity"},
        format="json",
    )
    operator.client.post(f"{REVIEW}/{item.pk}/approve", {})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["revision"] == 1
    seen = seeded.client.get("/api/v1/users/me/recommendations").json()["results"][0]
    assert seen["rationale"] == "A clearer explanation citing $3,400."
    revision = RecommendationRevision.objects.get(recommendation=item)
    assert revision.rationale == original
    assert revision.edited_by_id == operator.user.id
    details = AuditEvent.objects.get(action="review.edit").details
    # The trail outlives an erasure of the person's data: it keeps what changed, not the text.
    assert details["changed"] == ["rationale"]
    assert details["after"] == {"status": "pending", "flagged": False, "revision": 1}
    assert "$3,400" not in json.dumps(details)


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({}, "title"),
        ({"rationale": "You are reckless with money."}, "rationale"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_edits(seeded: SignedIn, operator: SignedIn, body: dict, attr: str) -> None:
    item = pending(seeded)[0]

    response = operator.client.put(f"{REVIEW}/{item.pk}", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr
    assert Recommendation.objects.get(pk=item.pk).revision == 0


def test_bulk_reject(seeded: SignedIn, operator: SignedIn) -> None:
    items = pending(seeded)[:2]

    response = operator.client.post(
        f"{REVIEW}/bulk",
        {"action": "reject", "ids": [str(i.pk) for i in items], "reason": "off-topic"},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == 2
    assert {r["status"] for r in response.json()["results"]} == {"rejected"}
    assert AuditEvent.objects.filter(action="review.reject").count() == 2


def test_bulk_is_all_or_nothing(seeded: SignedIn, operator: SignedIn) -> None:
    items = pending(seeded)
    operator.client.post(f"{REVIEW}/{items[0].pk}/approve", {})
    unknown = uuid.uuid4()

    response = operator.client.post(
        f"{REVIEW}/bulk",
        {"action": "reject", "ids": [str(items[1].pk), str(items[0].pk), str(unknown)]},
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    details = " ".join(e["detail"] for e in response.json()["errors"])
    assert str(unknown) in details
    assert str(items[0].pk) in details
    assert Recommendation.objects.get(pk=items[1].pk).status == "pending"  # nothing changed


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"action": "approve", "ids": []}, "ids"),
        ({"action": "delete", "ids": [str(uuid.uuid4())]}, "action"),
        ({"action": "approve", "ids": ["not-a-uuid"]}, "ids.0"),
        ({"action": "approve", "ids": [str(uuid.uuid4()) for _ in range(501)]}, "ids"),
        ({"action": "approve"}, "ids"),
    ],
)
def test_bulk_bad_input(operator: SignedIn, body: dict, attr: str) -> None:
    response = operator.client.post(f"{REVIEW}/bulk", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr


# --- analytics ---------------------------------------------------------------------------


def test_analytics_on_a_known_dataset(operator: SignedIn) -> None:
    from django.core.management import call_command

    with committed():
        call_command("seed_demo", "--users", "6", "--seed", "2", stdout=__import__("io").StringIO())
    recs = list(Recommendation.objects.all())
    Recommendation.objects.filter(pk__in=[r.pk for r in recs[:4]]).update(status="approved")
    Recommendation.objects.filter(pk__in=[r.pk for r in recs[4:5]]).update(status="rejected")
    FeedbackFactory.create(recommendation=recs[0], rating="helpful")
    FeedbackFactory.create(recommendation=recs[1], rating="not_helpful")

    body = operator.client.get("/api/v1/operator/analytics").json()

    assert body["recommendations"]["total"] == len(recs)
    assert body["recommendations"]["approved"] == 4
    assert body["approval_rate"] == 0.8
    assert body["rejection_rate"] == 0.2
    assert body["explainability"] == 1.0
    assert body["auditability"] == 1.0
    assert body["engagement"]["feedback"] == 2
    assert body["engagement"]["helpful_share"] == 0.5
    coverage = body["coverage"]
    assert coverage["users_with_data"] == 6
    assert coverage["users_with_persona"] == 5  # the "steady" archetype matches none
    assert coverage["persona_mix"]["none"] == 1
    assert body["performance"]["uploads"]["processed"] == 6
    assert body["performance"]["latency_ms"]["count"] == 6
    fairness = body["fairness"]
    assert (
        sum(group["users"] for group in fairness["groups"].values())
        == SyntheticDemographic.objects.count()
        == 6
    )
    assert fairness["offer_rate_parity"] is None or 0 <= fairness["offer_rate_parity"] <= 1
    assert body["persona_mix_over_time"][0]["counts"]


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("start=2026-13-01", "start"),
        ("end=soon", "end"),
        ("start=2026-02-01&end=2026-01-01", "start"),
    ],
)
def test_analytics_bad_dates(operator: SignedIn, query: str, attr: str) -> None:
    for path in ("", "/coverage", "/performance"):
        response = operator.client.get(f"/api/v1/operator/analytics{path}?{query}")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"][0]["attr"] == attr


def test_analytics_range_defaults_to_the_last_30_days(operator: SignedIn) -> None:
    from datetime import timedelta

    from django.utils import timezone

    body = operator.client.get("/api/v1/operator/analytics/coverage").json()

    today = timezone.now().date()
    assert (body["start"], body["end"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
    )


def test_a_flag_is_seen_in_the_operators_next_read(seeded: SignedIn, operator: SignedIn) -> None:
    from operator_console.services import recommendation_flag

    url = f"/api/v1/users/{seeded.user.id}/recommendations"
    item = pending(seeded)[0]
    assert operator.client.get(url).status_code == HTTPStatus.OK  # cached now

    with committed():
        recommendation_flag(recommendation=item, actor=operator.user, flagged=True)

    flags = {r["id"]: r["flagged"] for r in operator.client.get(url).json()["results"]}
    assert flags[str(item.pk)] is True


@pytest.mark.parametrize(
    "query", ["end=9999-12-31", "end=0001-01-05", "start=0001-01-01&end=9999-12-31"]
)
@pytest.mark.parametrize("path", ["", "/coverage", "/performance"])
def test_analytics_take_any_valid_dates(operator: SignedIn, query: str, path: str) -> None:
    """The calendar's first and last days are dates like any other: 200, never a 500."""
    response = operator.client.get(f"/api/v1/operator/analytics{path}?{query}")

    assert response.status_code == HTTPStatus.OK


def test_the_console_analytics_page_takes_the_last_day_too(operator: SignedIn) -> None:
    from django.test import Client

    console = Client()
    console.force_login(operator.user)

    assert console.get("/admin/analytics/?end=9999-12-31").status_code == HTTPStatus.OK
