"""Analytics' figures of users as they are now come from per-bucket tallies
(operator_console.tallies): every figure equals a brute-force count over the rows after a
build, after each kind of write before any build (its bucket counted live), and after the
next build; a read takes as many queries whether its buckets are built or live; a build and a
write crossing never leave a bucket counted from a stale tally."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import UUIDField, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ConsentStatus, User
from accounts.users.services import user_delete
from consent.services import consent_grant, consent_revoke
from operator_console import analytics, services, tallies
from operator_console.models import SyntheticDemographic, UserTally, UserTallyChange
from operator_console.tests.test_analytics_sql import brute_coverage, brute_fairness, populate
from recommendations.models import Recommendation, SignalSnapshot, UserInsightState
from recommendations.services import user_recompute
from recommendations.state import states_rebuild, user_state_refresh
from spendsense.api.request import RequestMeta
from spendsense.buckets import BUCKETS, UserBucket
from tests.support.clients import SignedIn
from tests.support.commits import committed, paused_after
from tests.support.factories.accounts import UserFactory
from tests.support.factories.recommendations import (
    PersonaAssignmentFactory,
    RecommendationFactory,
    SignalSnapshotFactory,
)
from tests.support.insights import seed
from uploads.services import user_data_erase

pytestmark = pytest.mark.django_db


def bucket_of(user_id: uuid.UUID) -> int:
    """The bucket the database gives ``user_id`` (spendsense.buckets.UserBucket)."""
    compiler = User.objects.all().query.get_compiler(using="default")
    sql, params = compiler.compile(UserBucket(Value(user_id, output_field=UUIDField())))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return int(cursor.fetchone()[0])


def assert_exact() -> None:
    today = timezone.now().date()
    coverage = analytics.coverage(today, today)
    assert {k: v for k, v in coverage.items() if k not in ("start", "end")} == brute_coverage()
    assert analytics.fairness()["groups"] == brute_fairness()


def new_persona_signals_and_offer(people: list[User]) -> None:
    """As a recompute that changed a persona, the detected signals and an offer writes."""
    user = people[3]
    PersonaAssignmentFactory.create(user=user, persona="savings_builder")
    SignalSnapshot.objects.filter(user=user).delete()
    SignalSnapshotFactory.create(user=user, data={"detected": ["savings", "credit", "income"]})
    RecommendationFactory.create(user=user, type="partner_offer")
    user_state_refresh(user_id=user.id)


def revoke(people: list[User]) -> None:
    with committed():
        consent_revoke(user=people[0], delete_data=False)


def grant_again(people: list[User]) -> None:
    revoke(people)
    tallies.tallies_build()
    assert_exact()
    with committed():
        consent_grant(user=people[0], version=None)


def erase(people: list[User]) -> None:
    with committed():
        consent_revoke(user=people[1], delete_data=True)


def delete_account(people: list[User]) -> None:
    with committed():
        user_delete(user=people[2], meta=RequestMeta())


def delete_user_row(people: list[User]) -> None:
    """Not through the service (no erasure first): the row and what cascades with it."""
    user = next(p for p in people if SyntheticDemographic.objects.filter(user=p).exists())
    with committed():
        User.objects.filter(pk=user.pk).delete()


def erase_keeping_consent(people: list[User]) -> None:
    with committed():
        user_data_erase(user=people[1])


def add_demographic(people: list[User]) -> None:
    user = next(p for p in people if not SyntheticDemographic.objects.filter(user=p).exists())
    services.demographic_set(user_id=user.id, age_band="65+", archetype="any")


def change_demographic(people: list[User]) -> None:
    row = SyntheticDemographic.objects.filter(user__in=people).first()
    assert row is not None
    services.demographic_set(user_id=row.user_id, age_band="50-64", archetype="any")


def revoke_by_bulk_update(people: list[User]) -> None:
    """Consent written without the consent service (a data migration, the shell): a queryset
    update of the column."""
    with committed():
        User.objects.filter(pk=people[0].pk).update(consent_status=ConsentStatus.REVOKED)


def revoke_by_save(people: list[User]) -> None:
    user = User.objects.get(pk=people[0].pk)
    user.consent_status = ConsentStatus.REVOKED
    with committed():
        user.save()


def create_consenting(people: list[User]) -> None:
    with committed():
        UserFactory.create(consent_status=ConsentStatus.GRANTED)


def rebuild_states(people: list[User]) -> None:
    """Rows written outside recompute (a restore), then every state rebuilt from them."""
    SignalSnapshot.objects.filter(user__in=people[:4]).update(data={"detected": []})
    states_rebuild()


CHANGES: dict[str, Callable[[list[User]], None]] = {
    "a recompute changes persona, signals and offer": new_persona_signals_and_offer,
    "consent revoked": revoke,
    "consent granted again": grant_again,
    "data erased": erase,
    "data erased, consent kept": erase_keeping_consent,
    "account deleted": delete_account,
    "user row deleted": delete_user_row,
    "demographic added": add_demographic,
    "demographic changed": change_demographic,
    "every state rebuilt": rebuild_states,
    "consent revoked by a queryset update": revoke_by_bulk_update,
    "consent revoked by a save": revoke_by_save,
    "a user created consenting": create_consenting,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_each_change_is_counted_before_and_after_the_next_build(
    change: Callable[[list[User]], None],
) -> None:
    people = populate(16, seed=41)  # every bucket built
    assert tallies.unbuilt() == []
    assert UserTally.objects.exclude(metric=tallies.BUILT).exists()
    assert_exact()

    change(people)

    assert tallies.unbuilt()  # the changed buckets are counted live
    assert_exact()
    assert tallies.tallies_build() > 0
    assert tallies.unbuilt() == []
    assert not UserTallyChange.objects.exists()
    assert_exact()


def test_a_real_recompute_is_counted_before_the_build(consented: SignedIn) -> None:
    """The engine's own write of the state row (user_state_write) marks the bucket."""
    populate(4, seed=43)
    assert tallies.unbuilt() == []

    seed(consented)  # an upload, processed and recomputed

    assert tallies.unbuilt() == [bucket_of(consented.user.id)]
    assert_exact()
    tallies.tallies_build()
    assert_exact()


def test_a_recompute_that_leaves_the_state_as_it_was_marks_no_bucket(
    consented: SignedIn,
) -> None:
    """Recompute replaces pending items (their digests outdated, as after a catalog change)
    but persona, signals and offers stay: the state row is not rewritten, no bucket goes
    live (a nightly recompute leaves coverage and fairness read from their tallies)."""
    populate(4, seed=43)
    seed(consented)
    tallies.tallies_build()
    state_before = UserInsightState.objects.values().get(user_id=consented.user.id)
    Recommendation.objects.filter(user=consented.user, status="pending").update(digest="old")

    written = user_recompute(user_id=consented.user.id)["written"]

    assert written["recommendations_inserted"] > 0  # the derived rows were written
    assert UserInsightState.objects.values().get(user_id=consented.user.id) == state_before
    assert tallies.unbuilt() == []
    assert_exact()


def test_only_the_changed_users_buckets_are_counted_live() -> None:
    people = populate(6, seed=47)

    revoke(people)

    assert tallies.unbuilt() == [bucket_of(people[0].id)]


def reads(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_a_read_takes_as_many_queries_built_or_live_for_3_or_30_users() -> None:
    today = timezone.now().date()
    figures = [lambda: analytics.coverage(today, today), analytics.fairness]
    populate(3, seed=51)
    few = [reads(f) for f in figures]
    populate(27, seed=52)
    built = [reads(f) for f in figures]
    UserTally.objects.all().delete()  # every bucket counted live
    live = [reads(f) for f in figures]

    assert few == built == live, (few, built, live)


def test_a_build_stores_what_a_read_counts_live() -> None:
    """Bucket by bucket, the tallies are the rows the read counts for a bucket not built."""
    populate(20, seed=53)
    stored = sorted(
        UserTally.objects.exclude(metric=tallies.BUILT).values_list(
            "bucket", "metric", "key", "value"
        )
    )
    sql, params = tallies._rows_sql("default", tallies._families(), list(range(BUCKETS)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        live = sorted(tuple(row) for row in cursor.fetchall())

    assert stored == live
    assert len({bucket for bucket, *_ in stored}) > 5


def test_ids_spread_over_every_bucket() -> None:
    """Random ids and bench_scale's counter ids (decimal digits in hex places) alike: every
    bucket holds some, none twice its share."""
    bench = [uuid.UUID(f"5eed0001-0000-4000-8000-{i:012d}") for i in range(5020)]
    for ids in (bench, [uuid.uuid4() for _ in range(5020)]):
        counts = [0] * BUCKETS
        for user_id in ids:
            counts[(user_id.int & 0xFFFF) % BUCKETS] += 1
        assert min(counts) > 0
        assert max(counts) < 2 * len(ids) / BUCKETS
        # The database's function is that one: the id's last 16 bits, modulo BUCKETS.
        for user_id in ids[:10]:
            assert bucket_of(user_id) == (user_id.int & 0xFFFF) % BUCKETS


def same_bucket_users(count: int) -> list[User]:
    """Users whose ids end alike: one bucket."""
    return [
        UserFactory.create(id=uuid.UUID(f"00000000-0000-4000-8000-{n:08d}1234"))
        for n in range(count)
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_during_a_build_leaves_its_bucket_counted_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The build has counted a bucket (its tallies written, not committed) when a withdrawal
    in that bucket commits: the withdrawal does not wait for the build, and its change row
    outlives it, so the bucket is counted live, without the person, until the next build."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    today = timezone.now().date()
    people = same_bucket_users(3)
    for person in people:
        with committed():
            consent_grant(user=person, version=None)
    tallies.tallies_build(every=True)
    with committed():
        consent_revoke(user=people[0], delete_data=False)  # the bucket: to build

    with (
        paused_after(monkeypatch, tallies, "_count", tallies.tallies_build) as building,
        committed(),
    ):
        consent_revoke(user=people[1], delete_data=False)

    monkeypatch.undo()  # builds run unpaused from here
    assert building.error is None
    assert building.result == 1
    assert tallies.unbuilt() == [bucket_of(people[1].id)]
    assert analytics.coverage(today, today)["users_consenting"] == 1
    tallies.tallies_build()
    assert tallies.unbuilt() == []
    assert analytics.coverage(today, today)["users_consenting"] == 1


def test_the_state_backfill_migrates_a_database_with_users_before_the_tally_tables_exist() -> None:
    """recommendations 0007 (the current-state backfill) may run before operator_console
    0003 creates the tallies' tables (neither depends on the other): on a database with
    users it must not write a change row; the console's 0004 builds every bucket after."""
    populate(3, seed=59)
    backfill = importlib.import_module("recommendations.migrations.0007_analytics_backfill")
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(UserTallyChange._meta.db_table)}")

    backfill.backfill(django_apps, None)

    assert UserInsightState.objects.exists()


def test_the_beat_task_builds_the_changed_buckets() -> None:
    from django.conf import settings

    from operator_console.tasks import tally_analytics

    people = populate(5, seed=57)
    revoke(people)
    assert tallies.unbuilt()

    tally_analytics.apply()

    assert tallies.unbuilt() == []
    assert_exact()
    assert "operator_console.tally_analytics" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
