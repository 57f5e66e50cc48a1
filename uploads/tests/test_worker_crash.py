"""A real Celery worker killed half-way through an ingestion: the broker redelivers the task
(late acks, reject on worker lost, a short visibility timeout) and the upload ends
``processed`` with exactly one run's data. Needs PostgreSQL and Redis (CI has both)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from uploads.management.commands.bench_upload import build_json
from uploads.models import DataUpload, Transaction
from uploads.services import upload_create

REPO = Path(__file__).resolve().parents[2]
# The test flushes this database: CELERY_TEST_BROKER_URL keeps concurrent runs apart.
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("REDIS_URL")
        ),
        reason="needs PostgreSQL and Redis shared with a worker (set DATABASE_URL and REDIS_URL)",
    ),
]


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(REPO),
    }


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "spendsense",
            "worker",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=REPO,
        env=worker_env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def inserting_transactions() -> bool:
    """The worker's connection is copying or merging transactions (spendsense.pgcopy: a
    user's first rows straight into the table, others through a temporary one): inside the
    ingestion's transaction, rows written, nothing committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' "
            "AND (query ILIKE 'COPY \"uploads_transaction\"%%' "
            "OR query ILIKE 'COPY \"_copy_uploads_transaction\"%%' "
            "OR query ILIKE 'WITH written AS (INSERT INTO \"uploads_transaction\"%%')"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    user = grant_consent(UserFactory.create())
    content, count = build_json(10 * 1024 * 1024)
    accounts = json.dumps({"accounts": [json.loads(content)["accounts"][0]]}).encode()
    with mock.patch("uploads.services._enqueue"):
        upload_create(user=user, file_name="a.json", content=accounts, idempotency_key=None)
        upload = upload_create(
            user=user, file_name="big.json", content=content, idempotency_key=None
        ).upload
    DataUpload.objects.exclude(pk=upload.pk).update(status="processed")
    # Not the current app: shared tasks elsewhere in this process must stay eager.
    app = Celery(broker=BROKER, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"])
    log = tmp_path / "worker.log"

    first = start_worker(log)
    try:
        app.send_task("uploads.process_upload", args=[str(upload.pk)])
        assert wait_for(lambda: DataUpload.objects.get(pk=upload.pk).status == "processing", 60), (
            log.read_text()
        )
        # Inside the ingestion's transaction: a fixed sleep could outlast a COPY ingestion.
        assert wait_for(inserting_transactions, 60), log.read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert DataUpload.objects.get(pk=upload.pk).status == "processing"
        assert Transaction.objects.filter(user=user).count() == 0  # the half-done run rolled back

        second = start_worker(log)
        try:
            assert wait_for(
                lambda: DataUpload.objects.get(pk=upload.pk).status == "processed", 120
            ), log.read_text()[-3000:]
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)

    from celery import current_app

    from spendsense.celery_app import app as project_app

    assert current_app.main == project_app.main  # this test left the project's app current
    upload.refresh_from_db()
    assert upload.counts["transactions"]["created"] == count
    assert Transaction.objects.filter(user=user).count() == count
    assert upload.attempts == 2
    assert settings.CELERY_TASK_ACKS_LATE
