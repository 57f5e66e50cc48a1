"""``manage.py bench_engine --users N``: the engine's speed on the configured database.

Loads N synthetic users (180+ days of history each) straight into the tables, then times
``user_recompute`` (load + signals + personas + recommendations + writes) per user, twice:
first right after the data arrived (every derived row is new, as after an upload), then again
on the same data (nothing changed, as a nightly ``recompute --all`` finds most users). For each
pass it prints users/s, per-user p50/p95, the split between loading, computing and writing,
and the round trips to the database per user (BEGIN and COMMIT included; statements sent
together, ``spendsense.batch``, count once), counted apart from the timed runs on a sample of
users. The users are erased afterwards.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from consent.services import consent_grant
from recommendations.selectors import catalog_load
from recommendations.services import user_derived_erase, user_recompute
from recommendations.synthetic import synthetic_user
from uploads.services import _ingest, user_data_erase
from uploads.validation import parse_upload


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Benchmark the engine per user against the configured database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--seed", type=int, default=99)

    def handle(self, *args: Any, users: int, seed: int, **options: Any) -> None:
        if users < 1:
            raise CommandError("--users must be at least 1")
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        created: list[User] = []
        try:
            started = time.perf_counter()
            for index in range(users):
                synthetic = synthetic_user(index, seed)
                user = User.objects.create_user(
                    f"bench-engine-{seed}-{index}-{time.time_ns()}@example.invalid"
                )
                created.append(user)
                consent_grant(user=user, version=None)
                parsed = parse_upload(json.dumps(synthetic.body).encode(), known_account_ids=set())
                with transaction.atomic():  # as the upload task ingests (COPY needs one)
                    _ingest(user, parsed)
            self.stdout.write(
                f"database: {engine}; loaded {users} users in {time.perf_counter() - started:.1f} s"
            )
            ids = [user.pk for user in created]
            self._pass("first recompute (new data: every row written)", ids)
            self._pass("recompute again (unchanged data)", ids)
            sample = ids[: min(20, len(ids))]
            again = self._queries(sample)
            for user_id in sample:
                user_derived_erase(user_id=user_id)
            first = self._queries(sample)
            self.stdout.write(
                f"round trips per user (sample of {len(sample)}): "
                f"first {first:.1f}, again {again:.1f}"
            )
        finally:
            for user in created:
                user_data_erase(user=user)
                user.delete()

    def _pass(self, title: str, ids: list[Any]) -> None:
        timings = []
        started = time.perf_counter()
        for user_id in ids:
            timings.append(user_recompute(user_id=user_id))
        elapsed = time.perf_counter() - started
        total = [t["total_ms"] for t in timings]
        self.stdout.write(f"{title}:")
        self.stdout.write(
            f"engine: {len(ids)} users in {elapsed:.2f} s = {len(ids) / elapsed:.1f} users/s | "
            f"per user p50 {percentile(total, 0.5):.1f} ms, p95 {percentile(total, 0.95):.1f} ms"
        )
        for part in ("load_ms", "compute_ms", "write_ms"):
            values = [t[part] for t in timings]
            self.stdout.write(
                f"  {part[:-3]}: p50 {percentile(values, 0.5):.1f} ms, "
                f"p95 {percentile(values, 0.95):.1f} ms, mean {statistics.mean(values):.1f} ms"
            )

    def _queries(self, ids: list[Any]) -> float:
        """Round trips to the database per user, BEGIN and COMMIT included (a pass of its
        own: capturing slows every statement down); the catalog, memoised per process, read
        before."""
        catalog_load()
        reset_queries()  # with DEBUG on, a full log of earlier queries would capture none
        with CaptureQueriesContext(connection) as queries:
            for user_id in ids:
                user_recompute(user_id=user_id)
        return len(queries.captured_queries) / len(ids)
