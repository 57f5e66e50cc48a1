"""The read replica (spendsense/db.py): with ``DATABASE_REPLICA_URL`` analytics, exports and
the review queue's GETs read from the ``replica`` alias; authentication, writes, and a
caller's reads right after their own write stay on ``default``. Here the replica is a second
alias of the test database (``TEST: {"MIRROR": "default"}``, as settings configure it), so
the tests commit (transaction=True) and look at which connection ran each query."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext

from recommendations.models import Recommendation
from spendsense.db import REPLICA, ReplicaRouter, replica_reads
from tests.support.clients import REVIEW, SignedIn, sign_in
from tests.support.consent import grant_consent
from tests.support.factories.accounts import OperatorFactory, UserFactory
from tests.support.factories.recommendations import RecommendationFactory

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)

ANALYTICS_TABLES = (
    "recommendations_userinsightstate",
    "recommendations_dailyrollup",
    "operator_console_usertally",
)


@pytest.fixture(scope="module")
def replica(django_db_setup: None) -> Iterator[BaseDatabaseWrapper]:
    """The alias settings add for DATABASE_REPLICA_URL, pointing at the test database (module
    scope: it exists before the test's database access is set up, which must know it)."""
    connections.settings[REPLICA] = {
        **connections["default"].settings_dict,
        "TEST": {"MIRROR": "default"},
    }
    try:
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def sql_of(captured: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in captured.captured_queries)


def reads(client: Any, path: str) -> tuple[Any, str, str]:
    """GET ``path``; the response, and the SQL that ran on default and on the replica."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as copy,
    ):
        response = client.get(path)
    return response, sql_of(primary), sql_of(copy)


@pytest.fixture
def operator() -> SignedIn:
    return sign_in(OperatorFactory.create())


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("", "operator_console_usertally"),  # coverage and fairness
        ("", "recommendations_dailyrollup"),
        ("/coverage", "operator_console_usertally"),
        ("/performance", "recommendations_dailyrollup"),
    ],
)
def test_analytics_read_from_the_replica(
    replica: BaseDatabaseWrapper, operator: SignedIn, path: str, table: str
) -> None:
    response, primary, copy = reads(operator.client, f"/api/v1/operator/analytics{path}")

    assert response.status_code == HTTPStatus.OK
    assert table in copy
    assert not any(table in primary for table in ANALYTICS_TABLES)
    assert "recommendations_" not in primary
    assert "uploads_" not in primary


def test_the_console_analytics_page_reads_from_the_replica(
    replica: BaseDatabaseWrapper, operator: SignedIn
) -> None:
    from django.test import Client

    console = Client()
    console.force_login(operator.user)

    page, primary, copy = reads(console, "/admin/analytics/")

    assert page.status_code == HTTPStatus.OK
    assert "operator_console_usertally" in copy
    assert not any(table in primary for table in ANALYTICS_TABLES)


def test_the_queue_reads_from_the_replica_until_the_caller_decides(
    replica: BaseDatabaseWrapper, operator: SignedIn
) -> None:
    owner = grant_consent(UserFactory.create())
    item = RecommendationFactory.create(user=owner)

    listed, primary, copy = reads(operator.client, REVIEW)
    detail, _, detail_copy = reads(operator.client, f"{REVIEW}/{item.pk}")
    assert listed.json()["count"] == 1
    assert detail.status_code == HTTPStatus.OK
    assert "recommendations_recommendation" in copy
    assert "recommendations_recommendation" in detail_copy
    assert "recommendations_recommendation" not in primary

    with (
        CaptureQueriesContext(connections["default"]) as write,
        CaptureQueriesContext(connections[REPLICA]) as nothing,
    ):
        approved = operator.client.post(f"{REVIEW}/{item.pk}/approve", {})
    assert approved.status_code == HTTPStatus.OK
    assert "UPDATE" in sql_of(write)
    assert not nothing.captured_queries  # a write, and the reads inside it: default only

    # Right after their own write, the operator reads the primary: they see the approval
    # even while a real replica lags.
    after, primary, copy = reads(operator.client, f"{REVIEW}?status=approved")
    assert after.json()["count"] == 1
    assert "recommendations_recommendation" in primary
    assert not copy
    # Someone else (who wrote nothing) still reads the replica.
    other = sign_in(OperatorFactory.create())
    _, primary, copy = reads(other.client, REVIEW)
    assert "recommendations_recommendation" in copy


def test_exports_read_from_the_replica(replica: BaseDatabaseWrapper, tmp_path: Any) -> None:
    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone

    from operator_console.exports import export_parquet

    day = timezone.now().date()
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as copy,
    ):
        export_parquet(start=day, end=day, storage=FileSystemStorage(location=str(tmp_path)))

    assert "recommendations_signalsnapshot" in sql_of(copy)
    assert "recommendations_" not in sql_of(primary)


def test_reads_inside_a_transaction_stay_on_default(replica: BaseDatabaseWrapper) -> None:
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Recommendation) == REPLICA
        with transaction.atomic():
            assert router.db_for_read(Recommendation) is None  # default: sees the writes
    assert router.db_for_read(Recommendation) is None  # outside replica_reads
    assert router.db_for_write(Recommendation) is None
    assert router.allow_migrate(REPLICA, "recommendations") is False


@pytest.mark.parametrize("url", ["", "postgres://reader@replica.internal:5432/spendsense"])
def test_settings_add_the_alias_only_when_named(url: str) -> None:
    env = {**os.environ, "DATABASE_REPLICA_URL": url}
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "r = settings.DATABASES.get('replica'); "
        "print(json.dumps(r and {**{k: r[k] for k in ('HOST', 'NAME', 'USER')}, "
        "'MIRROR': r['TEST']['MIRROR']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    expected = (
        {
            "HOST": "replica.internal",
            "NAME": "spendsense",
            "USER": "reader",
            "MIRROR": "default",
        }
        if url
        else None
    )
    assert json.loads(out.strip().splitlines()[-1]) == expected


def test_a_decision_in_the_console_keeps_the_operator_s_reads_on_default(
    replica: BaseDatabaseWrapper, operator: SignedIn
) -> None:
    """The same operator decides in the console, then reads the queue through the API (or the
    console's analytics): they must see their decision while a real replica lags."""
    from django.test import Client

    owner = grant_consent(UserFactory.create())
    item = RecommendationFactory.create(user=owner)
    console = Client()
    console.force_login(operator.user)

    decided = console.post(f"/admin/recommendations/recommendation/{item.pk}/decide/approve/")
    assert decided.status_code == HTTPStatus.FOUND
    item.refresh_from_db()
    assert item.status == "approved"

    after, primary, copy = reads(operator.client, f"{REVIEW}?status=approved")
    assert after.json()["count"] == 1
    assert "recommendations_recommendation" in primary
    assert not copy
    page, primary, copy = reads(console, "/admin/analytics/")
    assert page.status_code == HTTPStatus.OK
    assert "recommendations_recommendation" in primary
    assert not copy
