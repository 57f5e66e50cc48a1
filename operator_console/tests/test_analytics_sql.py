"""Analytics in SQL over narrow data (recommendations.state): every figure equals a brute-force
Python count over the rows themselves (the way analytics were computed before), for users who
consent and users who withdrew, over empty ranges, single days, and ranges that span rolled-up
days and today; the endpoints take as many queries for 3 users as for 30, and for a 1-day
range as for a 400-day one."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from consent.selectors import visible_to_staff
from consent.services import consent_grant, consent_revoke
from operator_console import analytics
from operator_console.models import SyntheticDemographic
from operator_console.tallies import analytics_rebuild
from recommendations.models import (
    DailyRollup,
    Feedback,
    PersonaAssignment,
    Recommendation,
    RollupDelta,
    SignalSnapshot,
    UserInsightState,
)
from recommendations.state import rollup_pending, user_state_refresh
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import OperatorFactory, UserFactory
from tests.support.factories.operator_console import SyntheticDemographicFactory
from tests.support.factories.recommendations import (
    FeedbackFactory,
    PersonaAssignmentFactory,
    RecommendationFactory,
    SignalSnapshotFactory,
)
from tests.support.factories.uploads import DataUploadFactory
from uploads.models import DataUpload, UploadStatus

pytestmark = pytest.mark.django_db

PERSONAS = ["high_utilization", "subscription_heavy", "savings_builder", None]
GROUPS = ["subscriptions", "savings", "credit", "income"]
BANDS = ["18-24", "25-34", "35-49"]


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


def today() -> date:
    return timezone.now().date()


def populate(users: int, *, seed: int, days: int = 20) -> list[User]:
    """``users`` consenting users with a random history over the last ``days`` days (persona
    changes, snapshots, offers, uploads with latencies and statuses, age bands); the current
    state and the rollups are rebuilt from the rows, as after a restore."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    people = []
    for _ in range(users):
        user = UserFactory.create()
        # They joined before their history began.
        User.objects.filter(pk=user.pk).update(created_at=at(today() - timedelta(days=days + 1)))
        with committed():
            consent_grant(user=user, version=None)
        people.append(user)
        for _ in range(rng.randint(0, 3)):
            row = PersonaAssignmentFactory.create(
                user=user, window=rng.choice(["30d", "180d"]), persona=rng.choice(PERSONAS)
            )
            PersonaAssignment.objects.filter(pk=row.pk).update(
                assigned_at=at(today() - timedelta(days=rng.randint(0, days)), rng.randint(0, 23))
            )
        if rng.random() < 0.8:
            detected = [g for g in GROUPS if rng.random() < 0.6]
            SignalSnapshotFactory.create(user=user, data={"detected": detected})
        if rng.random() < 0.5:
            RecommendationFactory.create(user=user, type=rng.choice(["partner_offer", "education"]))
        if rng.random() < 0.7:
            SyntheticDemographicFactory.create(user=user, age_band=rng.choice(BANDS))
        for _ in range(rng.randint(0, 3)):
            created = at(today() - timedelta(days=rng.randint(0, days)), rng.randint(0, 22))
            status = rng.choice([*[UploadStatus.PROCESSED] * 4, UploadStatus.FAILED])
            upload = DataUploadFactory.create(user=user, status=status)
            DataUpload.objects.filter(pk=upload.pk).update(
                created_at=created,
                processed_at=created + timedelta(milliseconds=rng.uniform(5, 5000)),
            )
    recommend(people, seed=seed, days=days)
    analytics_rebuild()
    return people


def recommend(people: list[User], *, seed: int, days: int) -> None:
    """Recommendations created over the last ``days`` days in every status, some flagged,
    edited, without rationale or trace, and ratings of some of them given later."""
    rng = random.Random(seed + 1000)  # noqa: S311 (test data, not secrets)
    for user in people:
        for _ in range(rng.randint(0, 4)):
            created = at(today() - timedelta(days=rng.randint(0, days)), rng.randint(0, 20))
            rec = RecommendationFactory.create(
                user=user,
                status=rng.choice(["pending", "approved", "approved", "rejected"]),
                flagged=rng.random() < 0.3,
                revision=rng.choice([0, 0, 1]),
                rationale=rng.choice(["Your utilization is 68%.", ""]),
            )
            trace = {} if rng.random() < 0.2 else rec.decision_trace
            Recommendation.objects.filter(pk=rec.pk).update(
                created_at=created, decision_trace=trace
            )
            if rng.random() < 0.5:
                rated = FeedbackFactory.create(
                    recommendation=rec, rating=rng.choice(["helpful", "not_helpful"])
                )
                given = min(created + timedelta(days=rng.randint(0, 3)), timezone.now())
                Feedback.objects.filter(pk=rated.pk).update(created_at=given)


def withdraw(user: User) -> None:
    with committed():
        consent_revoke(user=user, delete_data=False)


# --- the brute force: every row into Python, as analytics were computed before ------------


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return at(start, 0), at(end + timedelta(days=1), 0)


def current_personas() -> dict[Any, str | None]:
    current: dict[Any, str | None] = {}
    for user_id, persona in (
        visible_to_staff(PersonaAssignment.objects.filter(window="30d"))
        .order_by("user_id", "-assigned_at", "-id")
        .values_list("user_id", "persona")
    ):
        current.setdefault(user_id, persona)
    return current


def brute_coverage() -> dict[str, Any]:
    snapshots = {
        s.user_id: s.data.get("detected", [])
        for s in visible_to_staff(SignalSnapshot.objects.filter(window="30d"))
    }
    personas = current_personas()
    covered = sum(1 for u, d in snapshots.items() if personas.get(u) and len(d) >= 3)
    with_persona = sum(1 for u in snapshots if personas.get(u))
    mix = Counter(personas.get(u) or "none" for u in snapshots)
    return {
        "users_consenting": visible_to_staff(User.objects.all(), user_field=None).count(),
        "users_with_data": len(snapshots),
        "users_with_persona": with_persona,
        "users_covered": covered,
        "coverage": round(covered / len(snapshots), 4) if snapshots else None,
        "persona_mix": dict(sorted(mix.items())),
        "signals_detected": dict(sorted(Counter(s for d in snapshots.values() for s in d).items())),
    }


def brute_mix(start: date, end: date) -> list[dict[str, Any]]:
    low, high = bounds(start, end)
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    for assigned_at, persona in visible_to_staff(
        PersonaAssignment.objects.filter(window="30d", assigned_at__gte=low, assigned_at__lt=high)
    ).values_list("assigned_at", "persona"):
        monday = (assigned_at.date() - timedelta(days=assigned_at.weekday())).isoformat()
        weeks[monday][persona or "none"] += 1
    return [{"week": w, "counts": dict(sorted(c.items()))} for w, c in sorted(weeks.items())]


def brute_uploads(start: date, end: date) -> tuple[dict[str, int], list[float]]:
    low, high = bounds(start, end)
    uploads = visible_to_staff(DataUpload.objects.filter(created_at__gte=low, created_at__lt=high))
    statuses = Counter(uploads.values_list("status", flat=True))
    latencies = sorted(
        (u.processed_at - u.created_at).total_seconds() * 1000
        for u in uploads.filter(status=UploadStatus.PROCESSED)
        if u.processed_at is not None
    )
    return {s: statuses.get(s, 0) for s in UploadStatus.values}, latencies


def brute_fairness() -> dict[str, Any]:
    bands = dict(
        visible_to_staff(SyntheticDemographic.objects.all()).values_list("user_id", "age_band")
    )
    personas = current_personas()
    offered = set(
        Recommendation.objects.filter(type="partner_offer").values_list("user_id", flat=True)
    )
    groups = {}
    for band in sorted(set(bands.values())):
        members = [u for u, b in bands.items() if b == band]
        counts = Counter(personas.get(u) or "none" for u in members)
        groups[band] = {
            "users": len(members),
            "offer_rate": round(sum(1 for u in members if u in offered) / len(members), 4),
            "persona_rates": {p: round(n / len(members), 4) for p, n in sorted(counts.items())},
        }
    return groups


def brute_overview(start: date, end: date) -> dict[str, Any]:
    low, high = bounds(start, end)
    recs = list(
        visible_to_staff(Recommendation.objects.filter(created_at__gte=low, created_at__lt=high))
    )
    rated = set(Feedback.objects.values_list("recommendation_id", flat=True))
    counts = {
        "total": len(recs),
        "with_rationale": sum(1 for r in recs if r.rationale),
        "with_trace": sum(1 for r in recs if r.decision_trace),
        "approved": sum(1 for r in recs if r.status == "approved"),
        "rejected": sum(1 for r in recs if r.status == "rejected"),
        "pending": sum(1 for r in recs if r.status == "pending"),
        "flagged": sum(1 for r in recs if r.flagged),
        "edited": sum(1 for r in recs if r.revision > 0),
    }
    ratings = list(
        visible_to_staff(
            Feedback.objects.filter(created_at__gte=low, created_at__lt=high)
        ).values_list("rating", flat=True)
    )
    engaged = sum(1 for r in recs if r.status == "approved" and r.pk in rated)
    decided = counts["approved"] + counts["rejected"]
    shares = [  # (figure, part, whole), each rounded to 4 places, None over nothing
        ("explainability", counts["with_rationale"], counts["total"]),
        ("auditability", counts["with_trace"], counts["total"]),
        ("approval_rate", counts["approved"], decided),
        ("rejection_rate", counts["rejected"], decided),
        ("helpful_share", ratings.count("helpful"), len(ratings)),
        ("approved_with_feedback_share", engaged, counts["approved"]),
    ]
    figures = {name: round(part / whole, 4) if whole else None for name, part, whole in shares}
    engagement = ["helpful_share", "approved_with_feedback_share"]
    return {
        "recommendations": counts,
        **{name: v for name, v in figures.items() if name not in engagement},
        "engagement": {
            "feedback": len(ratings),
            "helpful": ratings.count("helpful"),
            **{name: figures[name] for name in engagement},
        },
    }


def assert_matches(start: date, end: date) -> None:
    overview = analytics.overview(start, end)
    assert {k: overview[k] for k in brute_overview(start, end)} == brute_overview(start, end)
    coverage = analytics.coverage(start, end)
    assert {k: v for k, v in coverage.items() if k not in ("start", "end")} == brute_coverage()
    assert analytics.persona_mix_over_time(start, end) == brute_mix(start, end)
    assert analytics.fairness()["groups"] == brute_fairness()
    performance = analytics.performance(start, end)
    statuses, latencies = brute_uploads(start, end)
    assert performance["uploads"] == statuses
    latency = performance["latency_ms"]
    assert latency["count"] == len(latencies)
    if not latencies:
        assert latency == {"count": 0, "p50": None, "p95": None, "max": None}
        return
    exact = {
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
        "max": latencies[-1],
    }
    for name, value in exact.items():  # 2 % buckets: within 1 %, plus the 0.1 ms rounding
        assert abs(latency[name] - value) <= 0.01 * value + 0.05 + 1e-9, name


RANGES = {
    "today": (0, 0),
    "yesterday (rolled up)": (1, 1),
    "rolled-up days and today": (25, 0),
    "a week in the middle": (12, 6),
    "empty (before any data)": (400, 300),
}


@pytest.mark.parametrize("span", RANGES.values(), ids=RANGES.keys())
def test_figures_equal_a_brute_force_count(span: tuple[int, int]) -> None:
    people = populate(14, seed=7)
    withdraw(people[0])  # after the rollups were built: their rows leave them
    withdraw(people[1])
    with committed():  # withdrawn and erased
        consent_revoke(user=people[4], delete_data=True)
    late = people[2]  # rows of today, after the rebuild: counted live
    PersonaAssignmentFactory.create(user=late, persona="savings_builder")
    upload = DataUploadFactory.create(user=late)
    DataUpload.objects.filter(pk=upload.pk).update(
        processed_at=upload.created_at + timedelta(seconds=2)
    )
    user_state_refresh(user_id=late.id)  # as the recompute that wrote the persona does
    start, end = (today() - timedelta(days=d) for d in span)

    assert DailyRollup.objects.filter(metric="built", value=0).exists()
    assert not DailyRollup.objects.filter(metric="built", value=-1).exists()  # none went live
    assert_matches(start, end)
    rollup_pending(lookback_days=30)  # the beat task folds the changes in
    assert not RollupDelta.objects.exists()
    assert_matches(start, end)


def test_a_day_with_an_upload_in_flight_is_counted_live_until_it_lands() -> None:
    people = populate(6, seed=3)
    yesterday = today() - timedelta(days=1)
    upload = DataUploadFactory.create(user=people[0], status=UploadStatus.QUEUED)
    DataUpload.objects.filter(pk=upload.pk).update(created_at=at(yesterday), processed_at=None)
    DailyRollup.objects.filter(day=yesterday).delete()

    assert rollup_pending(lookback_days=5) == 0  # yesterday stays unbuilt, the rest was built
    (marker,) = DailyRollup.objects.filter(day=yesterday)  # stale: retried by the next run
    assert (marker.metric, marker.value) == ("built", -1)
    assert_matches(yesterday - timedelta(days=3), today())

    DataUpload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.PROCESSED, processed_at=at(yesterday, 13)
    )
    assert rollup_pending(lookback_days=5) == 1
    assert DailyRollup.objects.filter(day=yesterday, metric="built", value=0).exists()
    assert_matches(yesterday - timedelta(days=3), today())


def test_the_beat_task_rolls_up_the_closed_days_not_built_yet() -> None:
    from django.conf import settings

    from operator_console.tasks import rollup_analytics

    populate(4, seed=17)
    DailyRollup.objects.all().delete()

    rollup_analytics.apply()

    built = set(DailyRollup.objects.filter(metric="built", value=0).values_list("day", flat=True))
    lookback = settings.ANALYTICS_ROLLUP_LOOKBACK_DAYS
    assert built == {today() - timedelta(days=n) for n in range(1, lookback + 1)}
    assert "operator_console.rollup_analytics" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_a_rebuild_is_idempotent() -> None:
    populate(8, seed=11)
    before = sorted(DailyRollup.objects.values_list("day", "metric", "key", "value"))
    states = sorted(UserInsightState.objects.values_list("user_id", "persona_30d", "has_data"))

    analytics_rebuild()

    assert sorted(DailyRollup.objects.values_list("day", "metric", "key", "value")) == before
    assert (
        sorted(UserInsightState.objects.values_list("user_id", "persona_30d", "has_data")) == states
    )


def test_the_state_refresh_of_one_user_equals_the_rebuild() -> None:
    people = populate(6, seed=5)
    columns = [f.attname for f in UserInsightState._meta.fields if f.attname != "updated_at"]
    rebuilt = {r["user_id"]: r for r in UserInsightState.objects.values(*columns)}
    UserInsightState.objects.all().delete()

    for user in people:
        user_state_refresh(user_id=user.id)

    refreshed = {r["user_id"]: r for r in UserInsightState.objects.values(*columns)}
    # The refresh writes a row for every user it is called for; the rebuild skips users
    # with neither snapshot nor persona, whose row says so.
    for user_id, row in refreshed.items():
        if user_id in rebuilt:
            assert row == rebuilt[user_id]
        else:
            assert (row["has_data"], row["persona_30d"], row["persona_180d"]) == (
                False,
                None,
                None,
            )


def test_recompute_and_erasure_keep_the_state(seeded: SignedIn) -> None:
    """A real upload: the recompute wrote the user's state in its transaction, the same row
    as a refresh from the rows; erasing the derived data removes it."""
    state = UserInsightState.objects.get(user=seeded.user)
    columns = [f.attname for f in UserInsightState._meta.fields if f.attname != "updated_at"]
    written = UserInsightState.objects.filter(user=seeded.user).values(*columns).get()
    user_state_refresh(user_id=seeded.user.id)
    assert UserInsightState.objects.filter(user=seeded.user).values(*columns).get() == written
    latest = PersonaAssignment.objects.filter(user=seeded.user, window="30d").first()
    snapshot = SignalSnapshot.objects.get(user=seeded.user, window="30d")

    assert latest is not None
    assert state.persona_30d == latest.persona
    assert state.has_data
    assert state.detected_count == len(snapshot.data["detected"])
    assert state.has_offer == (
        Recommendation.objects.filter(user=seeded.user, type="partner_offer").exists()
    )

    with committed():
        consent_revoke(user=seeded.user, delete_data=True)
    assert not UserInsightState.objects.filter(user=seeded.user).exists()


def test_without_a_replica_every_read_goes_to_default() -> None:
    """No DATABASE_REPLICA_URL (this run, and embedded mode): replica_reads changes nothing."""
    from django.conf import settings

    from spendsense.db import REPLICA, ReplicaRouter, replica_reads

    assert REPLICA not in settings.DATABASES
    with replica_reads():
        assert ReplicaRouter().db_for_read(Recommendation) is None


ENDPOINTS = ["", "/coverage", "/performance"]


def queries(operator: SignedIn, path: str, days: int) -> int:
    start = (today() - timedelta(days=days - 1)).isoformat()
    with CaptureQueriesContext(connection) as captured:
        response = operator.client.get(f"/api/v1/operator/analytics{path}?start={start}")
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_queries_do_not_grow_with_users_or_range(path: str) -> None:
    operator = sign_in(OperatorFactory.create())
    people = populate(3, seed=1)
    queries(operator, path, 1)  # the first request also caches the operator's principal
    few = [queries(operator, path, 1), queries(operator, path, 400)]
    populate(27, seed=2, days=300)
    withdraw(people[0])
    many = [queries(operator, path, 1), queries(operator, path, 400)]

    assert few[0] == few[1] == many[0] == many[1], (few, many)
