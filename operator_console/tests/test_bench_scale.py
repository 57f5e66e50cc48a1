"""bench_scale's seeding: COPY on PostgreSQL, idempotent for the same N, the difference for a
larger N, and the spread the benchmark needs. (Its timings are a benchmark, never a test.)"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test import override_settings

from accounts.models import ConsentStatus, Role, User
from consent.models import ConsentRecord
from operator_console.models import RecommendationRevision, SyntheticDemographic
from operator_console.scale_seed import OPERATOR, USER, bench_email, bench_id
from recommendations.models import Feedback, PersonaAssignment, Recommendation, SignalSnapshot
from tests.support.commits import call_command_committed
from uploads.models import Account, DataUpload, Transaction

pytestmark = pytest.mark.django_db

MODELS = (
    User,
    ConsentRecord,
    SyntheticDemographic,
    DataUpload,
    Account,
    Transaction,
    SignalSnapshot,
    PersonaAssignment,
    Recommendation,
    RecommendationRevision,
    Feedback,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def seed(users: int, real: int = 10) -> str:
    out = StringIO()
    call_command_committed(
        "bench_scale",
        "--users",
        str(users),
        "--real-users",
        str(real),
        "--batch",
        "16",
        "--seed-only",
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.postgres
def test_seeding_twice_with_the_same_n_adds_nothing_and_has_the_whole_spread() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: bench_scale writes with COPY")

    first = seed(50)
    after_first = counts()
    second = seed(50)

    assert "50 of 50 bench users to seed" in first
    assert "all 50 bench users exist already: nothing to seed" in second
    assert counts() == after_first
    bench = User.objects.filter(email__endswith="@example.test", role=Role.USER)
    assert bench.count() == 50
    assert User.objects.get(id=bench_id(USER, 7)).email == bench_email(7)
    assert set(User.objects.filter(id__startswith="5eed0007").values_list("role", flat=True)) == {
        Role.OPERATOR
    }
    assert User.objects.filter(id=bench_id(OPERATOR, 0)).exists()
    # Every review outcome, over both kinds of user (10 recomputed by the engine, 40 copied).
    statuses = set(Recommendation.objects.values_list("status", flat=True))
    assert statuses == {"pending", "approved", "rejected"}
    assert Recommendation.objects.filter(flagged=True).exists()
    edited = Recommendation.objects.filter(revision__gt=0)
    assert edited.exists()
    assert (
        RecommendationRevision.objects.filter(recommendation__in=edited).count() == edited.count()
    )
    assert (
        Feedback.objects.filter(recommendation__status="approved").count()
        == Feedback.objects.count()
        > 0
    )
    # Withdrawn consent, with the revocation on record; every user has a grant.
    withdrawn = bench.filter(consent_status=ConsentStatus.REVOKED)
    assert withdrawn.exists()
    assert ConsentRecord.objects.filter(action="revoke").count() == withdrawn.count()
    assert ConsentRecord.objects.filter(action="grant").count() == 50
    # Age bands for the fairness figures, on a part of the users only.
    assert 0 < SyntheticDemographic.objects.count() < 50
    # Uploads: every user's processed one, and a few that failed or were rejected.
    assert DataUpload.objects.filter(status="processed").count() == 50
    assert DataUpload.objects.exclude(status="processed").exists()
    # Real transactions only for the first 10; signals and personas for every consenting
    # real user and every copied one.
    owners = set(Transaction.objects.values_list("user_id", flat=True).distinct())
    assert {str(o) for o in owners} == {bench_id(USER, i) for i in range(10)}
    assert SignalSnapshot.objects.values("user_id").distinct().count() >= 48
    personas = set(PersonaAssignment.objects.values_list("persona", flat=True))
    assert len(personas) >= 4


@pytest.mark.postgres
def test_a_larger_n_adds_only_the_difference() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: bench_scale writes with COPY")
    seed(20, real=5)
    ids_before = set(Recommendation.objects.values_list("id", flat=True))

    out = seed(30, real=5)

    assert "10 of 30 bench users to seed" in out
    assert User.objects.filter(email__startswith="bench-user-").count() == 30
    assert ids_before <= set(Recommendation.objects.values_list("id", flat=True))
    added = User.objects.filter(id__in=[bench_id(USER, i) for i in range(20, 30)])
    assert added.count() == 10


def test_it_refuses_a_database_that_is_not_postgresql() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("this is PostgreSQL: the refusal is for the others")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed(5)
    assert not User.objects.filter(email__startswith="bench-user-").exists()


@override_settings(PRODUCTION=True)
def test_it_refuses_production_settings_unless_forced() -> None:
    with pytest.raises(CommandError, match="production"):
        seed(5)
    assert not User.objects.filter(email__startswith="bench-user-").exists()


@pytest.mark.parametrize("argument", ["--users", "--real-users", "--batch", "--requests"])
def test_counts_below_one_are_refused(argument: str) -> None:
    arguments = {"--users": "5", "--real-users": "5", "--batch": "5", "--requests": "5"}
    arguments[argument] = "0"
    with pytest.raises(CommandError, match="at least 1"):
        call_command_committed(
            "bench_scale", *[x for pair in arguments.items() for x in pair], "--seed-only"
        )
