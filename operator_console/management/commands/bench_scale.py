"""``manage.py bench_scale --users N [--seed-only]``: the service at N users, on PostgreSQL.

Seeds the bench users that are missing (``operator_console.scale_seed``: COPY, idempotent for
the same N, a larger N adds the difference), then, unless ``--seed-only``, starts gunicorn
with production settings (``bench.run``'s pieces, as ``make bench`` does) against this
database and times over HTTP, one request at a time: the three analytics endpoints, the
review queue's first page with each filter, and an operator's read of one user (another user
each time, so the insight cache misses); and in-process, ``user_recompute`` of the users
with real transactions. Prints p50/p95 per target and every table's rows and size.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from accounts.models import ConsentStatus, User
from bench.run import bench_environment, django_shell, gunicorn
from operator_console import scale_seed
from operator_console.tallies import analytics_rebuild
from recommendations.engine.personas import PRIORITY
from recommendations.models import Recommendation, RecommendationStatus
from recommendations.services import user_recompute

# Mints the bench operator's access token in a process that shares gunicorn's key.
SIGN_IN = """
import json
from accounts.models import User
from accounts.sessions.services import session_create
from spendsense.api.request import RequestMeta
operator = User.objects.get(email="%(email)s")
print(json.dumps({"access": session_create(user=operator, meta=RequestMeta()).access}))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fixed(path: str) -> Callable[[], str]:
    return lambda: path


def per_user(someone: Callable[[], str], part: str) -> Callable[[], str]:
    """Another consenting user's ``part`` each time: the insight cache misses, as an operator
    going through users would make it."""
    return lambda: f"/api/v1/users/{someone()}/{part}"


class Command(BaseCommand):
    help = "Seed N bench users with COPY (idempotent), then time the operator's reads over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, required=True)
        parser.add_argument("--seed-only", action="store_true", help="Seed, time nothing.")
        parser.add_argument(
            "--real-users",
            type=int,
            default=1000,
            help="Users with real transactions (recomputed by the engine; the recompute target).",
        )
        parser.add_argument("--batch", type=int, default=5000, help="Users per transaction.")
        parser.add_argument("--requests", type=int, default=20, help="Timed requests per target.")
        parser.add_argument(
            "--budget",
            type=float,
            default=60,
            help="Seconds per target after which it stops at 3 requests or more.",
        )
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--workers", type=int, default=3)
        parser.add_argument(
            "--force", action="store_true", help="Run although the settings are production's."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users, real = options["users"], options["real_users"]
        if users < 1 or real < 1 or options["batch"] < 1 or options["requests"] < 1:
            raise CommandError("--users, --real-users, --batch and --requests must be at least 1")
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "bench_scale fills the database with synthetic users; it refuses production "
                "settings (DJANGO_DEBUG=false) unless given --force."
            )
        if connection.vendor != "postgresql":
            raise CommandError("bench_scale writes with PostgreSQL's COPY: set DATABASE_URL.")
        started = time.perf_counter()
        seeded = scale_seed.Seeder(
            users=users,
            real=real,
            batch=options["batch"],
            progress=lambda line: self.stdout.write(line),
        ).run()
        if seeded:
            self._after_copy()
        self.stdout.write(
            f"seed: {seeded} users added in {time.perf_counter() - started:.1f} s "
            f"({users} bench users in all)"
        )
        self._table_sizes()
        if not options["seed_only"]:
            self._timings(users, min(real, users), options)

    def _after_copy(self) -> None:
        """Statistics for the planner, then analytics' derived rows (the per-user current
        state, the daily rollups and the bucket tallies) rebuilt set-based from what COPY
        wrote."""
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"analyze: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        rebuilt = analytics_rebuild()
        self.stdout.write(f"analytics_rebuild: {time.perf_counter() - started:.1f} s {rebuilt}")

    def _table_sizes(self) -> None:
        tables = sorted(
            {m._meta.db_table for m in apps.get_models() if m._meta.managed}
            & set(connection.introspection.table_names())
        )
        quote = connection.ops.quote_name
        rows = []
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT count(*), pg_total_relation_size(%s) FROM {quote(table)}",  # noqa: S608
                    [table],
                )
                count, size = cursor.fetchone()
                if count:
                    rows.append((table, count, size / 2**20))
        self.stdout.write(f"\n{'table':<42} {'rows':>12} {'MB':>10}")
        for table, count, size in sorted(rows, key=lambda r: -r[2]):
            self.stdout.write(f"{table:<42} {count:>12,} {size:>10.1f}")
        self.stdout.write(
            f"{'all':<42} {sum(r[1] for r in rows):>12,} {sum(r[2] for r in rows):>10.1f}"
        )

    def _timings(self, users: int, real: int, options: dict[str, Any]) -> None:
        count, budget = options["requests"], options["budget"]
        # A stop (SIGTERM) ends the benchmark as an exception does: gunicorn is stopped too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        rng = random.Random(7)  # noqa: S311 (which users to read; not a secret)
        consenting = self._consenting(rng.sample(range(users), min(users, 2000)))
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url:  # gunicorn must open the database this process seeded
            raise CommandError("the timings need DATABASE_URL (gunicorn reads it): set it")
        redis_url = os.environ.get("REDIS_URL", "")
        with bench_environment(database_url=database_url, redis_url=redis_url) as (base, var):
            token = json.loads(
                django_shell(base, SIGN_IN % {"email": scale_seed.operator_email(0)})
            )["access"]
            headers = {"X-Forwarded-Proto": "https", "Authorization": f"Bearer {token}"}
            with gunicorn(base, var, port=options["port"], workers=options["workers"]) as (
                root,
                _group,
            ):

                def timed(path: Callable[[], str]) -> list[float]:
                    """``count`` requests, fewer (3 at least) once ``budget`` is spent: an
                    analytics read over raw history can take tens of seconds at 100,000."""
                    durations: list[float] = []
                    spent = time.perf_counter()
                    for n in range(count + 1):  # the first one warms up, uncounted
                        if len(durations) >= 3 and time.perf_counter() - spent > budget:
                            break
                        request = urllib.request.Request(root + path(), headers=headers)  # noqa: S310
                        began = time.perf_counter()
                        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                            response.read()
                            if response.status != 200:
                                raise CommandError(f"{path()} answered {response.status}")
                        if n:
                            durations.append((time.perf_counter() - began) * 1000)
                    return durations

                def someone() -> str:
                    return str(rng.choice(consenting))

                week = (timezone.now() - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
                queue = "/api/v1/operator/review"
                targets: list[tuple[str, Callable[[], str]]] = [
                    (
                        f"GET /operator/analytics{suffix}",
                        fixed(f"/api/v1/operator/analytics{suffix}"),
                    )
                    for suffix in ("", "/coverage", "/performance")
                ]
                targets += [
                    (
                        f"GET /operator/review{query.replace(week, '<7 days ago>')}",
                        fixed(queue + query),
                    )
                    for query in (
                        "",
                        "?status=pending",
                        "?status=approved",
                        "?status=rejected",
                        f"?persona={PRIORITY[0]}",
                        "?type=partner_offer",
                        "?flagged=true",
                        f"?created_after={week}",
                        "?ordering=-score",
                    )
                ]
                targets.append(
                    ("GET /operator/review?user=<someone>", lambda: f"{queue}?user={someone()}")
                )
                targets += [
                    (f"GET /users/<someone>/{part}", per_user(someone, part))
                    for part in ("profile", "signals", "persona", "recommendations")
                ]
                self.stdout.write(f"\n{'target':<58} {'p50 ms':>9} {'p95 ms':>9} {'requests':>9}")

                def report(name: str, durations: list[float], extra: str = "") -> None:
                    self.stdout.write(
                        f"{name:<58} {percentile(durations, 0.5):>9.1f} "
                        f"{percentile(durations, 0.95):>9.1f} {extra or len(durations):>9}"
                    )

                for name, path in targets:
                    report(name, timed(path))
                # The real users recomputed as after a change of the engine or the catalog
                # (every pending item's digest differs from what the engine derives, so each
                # recompute replaces them: closed days' figures and the users' buckets
                # change), then analytics read again before any beat task runs: what an
                # operator sees during a nightly `recompute --all`.
                recomputing = self._consenting(range(real))
                Recommendation.objects.filter(
                    user_id__in=recomputing, status=RecommendationStatus.PENDING
                ).update(digest="bench_scale: outdated")
                recomputed = [
                    t["total_ms"]
                    for user_id in recomputing
                    for t in [user_recompute(user_id=user_id)]
                    if "total_ms" in t
                ]
                if recomputed:
                    report(
                        f"user_recompute (in-process), {len(recomputed)} users",
                        recomputed,
                        f" total {sum(recomputed) / 1000:.1f} s",
                    )
                for name, path in targets[:3]:
                    report(f"{name}, after the recompute", timed(path))

    def _consenting(self, indices: Iterable[int]) -> list[uuid.UUID]:
        """Of these bench users, those who consent (operators may read them)."""
        ids = [scale_seed.bench_id(scale_seed.USER, i) for i in indices]
        return list(
            User.objects.filter(id__in=ids, consent_status=ConsentStatus.GRANTED)
            .order_by("id")
            .values_list("id", flat=True)
        )
