"""Closed days stay rolled up through writes: every writer of a rolled-up figure appends its
exact signed change (recommendations.state.rollups_follow), no built day goes live, and the
figures equal a brute-force count before and after the beat task folds the changes in and
after a full rebuild; also when a writer races another writer or a build (PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db import OperationalError, connection, transaction

from accounts.models import User
from accounts.users.services import user_delete
from consent.services import consent_grant, consent_revoke
from operator_console import services
from operator_console.tallies import analytics_rebuild
from operator_console.tests.test_analytics_sql import (
    assert_matches,
    at,
    populate,
    today,
    withdraw,
)
from recommendations import services as engine
from recommendations import state
from recommendations.models import DailyRollup, Recommendation, RollupDelta
from recommendations.services import feedback_record, user_recompute
from recommendations.synthetic import synthetic_user
from spendsense.api.request import RequestMeta
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.commits import committed, paused_after
from tests.support.consent import grant_consent
from tests.support.factories.accounts import OperatorFactory, UserFactory
from tests.support.factories.recommendations import FeedbackFactory, RecommendationFactory

pytestmark = pytest.mark.django_db

START_DAYS = 25


def closed_day_item(user: User, status: str = "pending", days_ago: int = 3) -> Recommendation:
    """An item created on a closed day, rolled up (with the rest) before the test acts."""
    rec = RecommendationFactory.create(user=user, status=status)
    Recommendation.objects.filter(pk=rec.pk).update(created_at=at(today() - timedelta(days_ago)))
    rec.refresh_from_db()
    return rec


def markers() -> dict[date, int]:
    return dict(DailyRollup.objects.filter(metric="built").values_list("day", "value"))


def assert_still_built(built: dict[date, int]) -> None:
    """No day built before went live (days the beat task rolled up since may be added)."""
    now = markers()
    assert {day: now.get(day) for day in built} == built


def assert_exact_and_still_built(built: dict[date, int]) -> None:
    """The figures equal the brute-force count with no built day gone live, then after the
    beat task folds the deltas in, then after a full rebuild."""
    start = today() - timedelta(days=START_DAYS)
    assert_still_built(built)
    assert_matches(start, today())
    state.rollup_pending(lookback_days=30)
    assert not RollupDelta.objects.exists()
    assert_still_built(built)
    assert_matches(start, today())
    analytics_rebuild()
    assert_still_built(built)
    assert_matches(start, today())


def test_review_decisions_edits_and_flags_change_the_rollups_exactly() -> None:
    people = populate(5, seed=21)
    operator = OperatorFactory.create()
    single, bulk, other, edited, flagged = (
        closed_day_item(people[0], days_ago=d) for d in (2, 4, 4, 6, 8)
    )
    FeedbackFactory.create(recommendation=single)  # approved with feedback once decided
    analytics_rebuild()
    built = markers()

    services.recommendation_decide(recommendation=single, action="approve", actor=operator)
    assert RollupDelta.objects.exists()
    assert_exact_and_still_built(built)
    services.recommendations_bulk_decide(ids=[bulk.pk, other.pk], action="reject", actor=operator)
    assert_exact_and_still_built(built)
    services.recommendation_edit(
        recommendation=edited, actor=operator, changes={"title": "A calmer title"}
    )
    assert_exact_and_still_built(built)
    services.recommendation_flag(recommendation=flagged, actor=operator, flagged=True)
    assert_exact_and_still_built(built)


def test_feedback_on_an_old_item_changes_the_rollups_exactly() -> None:
    people = populate(5, seed=22)
    item = closed_day_item(people[1], status="approved", days_ago=5)
    rated = closed_day_item(people[2], status="approved", days_ago=7)
    FeedbackFactory.create(recommendation=rated, rating="helpful")
    analytics_rebuild()
    built = markers()

    feedback_record(user=people[1], recommendation=item, rating="helpful", comment="")
    assert_exact_and_still_built(built)
    feedback_record(user=people[2], recommendation=rated, rating="not_helpful", comment="")
    assert_exact_and_still_built(built)


def test_a_recompute_replacing_old_pending_items_changes_the_rollups_exactly(
    seeded: SignedIn,
) -> None:
    populate(3, seed=24)
    item = closed_day_item(seeded.user, days_ago=4)
    analytics_rebuild()
    built = markers()

    user_recompute(user_id=seeded.user.id)

    assert not Recommendation.objects.filter(pk=item.pk).exists()
    assert_exact_and_still_built(built)


def test_a_withdrawal_and_a_grant_again_change_the_rollups_exactly() -> None:
    people = populate(4, seed=23)
    user = people[0]
    item = closed_day_item(user, status="approved", days_ago=9)
    FeedbackFactory.create(recommendation=item)
    analytics_rebuild()
    built = markers()

    withdraw(user)
    assert_exact_and_still_built(built)
    with committed():
        consent_grant(user=User.objects.get(pk=user.pk), version=None)
    assert_exact_and_still_built(built)


@pytest.mark.parametrize("how", ["account deleted", "withdrawn with erasure"])
def test_an_erasure_changes_the_rollups_exactly(how: str) -> None:
    people = populate(6, seed=13)
    closed_day_item(people[0], status="approved", days_ago=6)
    analytics_rebuild()
    built = markers()

    with committed():
        if how == "account deleted":
            user_delete(user=people[0], meta=RequestMeta())
        else:
            consent_revoke(user=people[0], delete_data=True)

    assert_exact_and_still_built(built)


# --- races (two connections on PostgreSQL) ------------------------------------------------

race = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def uploaded() -> SignedIn:
    """A consenting user whose upload was processed (their pending items recomputed)."""
    person: SignedIn = sign_in(grant_consent(UserFactory.create()))
    assert upload(person.client, json.dumps(synthetic_user(0, 3).body).encode()).status_code == 202
    return person


def old_item_and_its_recompute() -> tuple[Recommendation, dict[date, int], Callable[[], object]]:
    """A pending item of a closed day of an uploaded user, the rollups built, their markers,
    and the user's recompute (which would delete the item: the engine does not derive it)."""
    person = uploaded()
    item = closed_day_item(person.user, days_ago=4)
    analytics_rebuild()
    return item, markers(), lambda: user_recompute(user_id=person.user.id)


@contextmanager
def giving_up_on_a_lock() -> Iterator[None]:
    """The body waits for a lock another connection holds, and gives up after 300 ms."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    try:
        with pytest.raises(OperationalError):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


@race
def test_a_decision_during_a_recompute_deleting_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recompute holds the user's row and would delete the old pending item; an operator
    approves it meanwhile: it stays, and the rollups hold exactly its approval."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and row locks")
    item, built, recompute = old_item_and_its_recompute()
    operator = OperatorFactory.create()

    # Held after its second comparison: the one made under the user's lock, before it writes.
    with paused_after(monkeypatch, engine, "_changes", recompute, call=2) as recomputing:
        services.recommendation_decide(recommendation=item, action="approve", actor=operator)

    assert recomputing.error is None
    assert Recommendation.objects.get(pk=item.pk).status == "approved"
    assert_exact_and_still_built(built)


@race
def test_a_recompute_before_a_decision_on_the_item_it_deletes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recompute has locked the old pending item it deletes: an operator's decision
    waits for it (here it gives up after 300 ms), and the rollups lose the item once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and row locks")
    item, built, recompute = old_item_and_its_recompute()

    with paused_after(monkeypatch, state, "_closed", recompute) as recomputing:
        operator = OperatorFactory.create()
        with giving_up_on_a_lock():  # the decision waits for the item's lock
            services.recommendation_decide(recommendation=item, action="approve", actor=operator)

    assert recomputing.error is None
    assert not Recommendation.objects.filter(pk=item.pk).exists()
    assert_exact_and_still_built(built)


def two_old_items() -> tuple[list[Recommendation], dict[date, int]]:
    people = populate(3, seed=25)
    items = [closed_day_item(people[0], days_ago=d) for d in (3, 5)]
    analytics_rebuild()
    return items, markers()


def deciding(item: Recommendation) -> Callable[[], Recommendation]:
    operator = OperatorFactory.create()
    return lambda: services.recommendation_decide(
        recommendation=item, action="reject", actor=operator
    )


@race
def test_a_build_before_a_writer_records_its_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision has locked its item; a rebuild of every day commits before it records its
    change (the build counted the item as it was): the decision records it against the
    rebuilt day."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and an advisory lock")
    (item, _), built = two_old_items()

    with paused_after(monkeypatch, services, "_locked", deciding(item)) as decision:
        analytics_rebuild()  # not blocked: the decision holds only its item's row

    assert decision.error is None
    assert Recommendation.objects.get(pk=item.pk).status == "rejected"
    assert_exact_and_still_built(built)


@race
def test_a_build_waits_for_a_writer_that_recorded_its_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a decision has recorded the figures before its change, a build of its day waits
    for it to commit (here it gives up after 300 ms); the next one counts it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and an advisory lock")
    (_, item), built = two_old_items()

    with (
        paused_after(monkeypatch, state, "rollups_before", deciding(item)) as decision,
        giving_up_on_a_lock(),
        transaction.atomic(),
    ):
        state.rollup_days(start=today() - timedelta(days=10), end=today())

    assert decision.error is None
    assert Recommendation.objects.get(pk=item.pk).status == "rejected"
    assert_exact_and_still_built(built)
