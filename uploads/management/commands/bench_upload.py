"""``manage.py bench_upload``: validation and ingestion time, and peak memory, for 10 MB files.

Builds a ~10 MB JSON body (full Plaid transactions, about 7,400) and a ~10 MB CSV (about
71,000 rows), then for each: validates it (``parse_upload``; ``--rounds`` times, the median
printed, wall and CPU time: CPU time is what to compare on a busy machine), accepts it as the
endpoint does and ingests it through the same service the Celery task runs, into whatever
database is configured: wall time, the process's CPU time and, with PostgreSQL on this
machine, the CPU time of its database backend; then uploads and ingests the same file again
(``again``: every row merged and found unchanged). Prints the figures; a throwaway user is
created and erased around each run.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from accounts.models import User
from consent.services import consent_grant
from uploads.models import DataUpload
from uploads.plaid.bodies import checking_account
from uploads.services import upload_create, upload_process, user_data_erase
from uploads.validation import parse_upload

MERCHANTS = ["Walmart", "Netflix", "Spotify", "Shell", "Whole Foods", "Uber", "Amazon", "Target"]
CATEGORIES = ["GENERAL_MERCHANDISE", "ENTERTAINMENT", "TRANSPORTATION", "FOOD_AND_DRINK"]


def _transaction(n: int, rng: random.Random, start: date) -> dict[str, Any]:
    merchant = rng.choice(MERCHANTS)
    day = (start + timedelta(days=n % 365)).isoformat()
    return {
        "account_id": "bench-checking",
        "account_owner": None,
        "amount": round(rng.uniform(-500, 500), 2),
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "check_number": None,
        "counterparties": [
            {
                "name": merchant,
                "type": "merchant",
                "logo_url": f"https://logos.example/{merchant.lower().replace(' ', '_')}.png",
                "website": f"{merchant.lower().replace(' ', '')}.com",
                "entity_id": f"entity-{n:08d}",
                "confidence_level": "VERY_HIGH",
            }
        ],
        "date": day,
        "datetime": f"{day}T11:01:01Z",
        "authorized_date": day,
        "authorized_datetime": f"{day}T10:34:50Z",
        "location": {
            "address": "13425 Community Rd",
            "city": "Poway",
            "region": "CA",
            "postal_code": "92064",
            "country": "US",
            "lat": 32.959068,
            "lon": -117.037666,
            "store_number": "1700",
        },
        "name": f"PURCHASE {merchant.upper()} #{n % 9999:04d}",
        "merchant_name": merchant,
        "merchant_entity_id": f"merchant-{n:08d}",
        "logo_url": None,
        "website": None,
        "payment_meta": dict.fromkeys(
            [
                "by_order_of",
                "payee",
                "payer",
                "payment_method",
                "payment_processor",
                "ppd_id",
                "reason",
                "reference_number",
            ]
        ),
        "payment_channel": rng.choice(["online", "in store"]),
        "pending": False,
        "pending_transaction_id": None,
        "personal_finance_category": {
            "primary": rng.choice(CATEGORIES),
            "detailed": "GENERAL_MERCHANDISE_SUPERSTORES",
            "confidence_level": "VERY_HIGH",
        },
        "personal_finance_category_icon_url": "https://plaid-category-icons.plaid.com/PFC_GENERAL_MERCHANDISE.png",
        "transaction_id": f"bench-tx-{n:08d}",
        "transaction_code": None,
        "transaction_type": "place",
    }


ACCOUNT = checking_account("bench-checking", available=1000, current=1000)
CSV_HEADER = (
    "account_id,transaction_id,date,amount,iso_currency_code,name,merchant_name,payment_channel,"
    "pending,personal_finance_category.primary,personal_finance_category.detailed\n"
)


def build_json(target_bytes: int, seed: int = 1) -> tuple[bytes, int]:
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    start = date(2026, 1, 1)
    sample = len(json.dumps(_transaction(0, rng, start)))
    count = max(1, (target_bytes - 2000) // (sample + 2))
    data = {
        "accounts": [ACCOUNT],
        "transactions": [_transaction(n, rng, start) for n in range(count)],
    }
    return json.dumps(data).encode(), count


def build_csv(target_bytes: int, seed: int = 2) -> tuple[bytes, int]:
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    start = date(2026, 1, 1)
    rows = [CSV_HEADER]
    size = len(CSV_HEADER)
    n = 0
    while True:
        merchant = rng.choice(MERCHANTS)
        row = (
            f"bench-checking,bench-csv-{n:08d},{(start + timedelta(days=n % 365)).isoformat()},"
            f"{rng.uniform(-500, 500):.2f},USD,"
            f"PURCHASE {merchant.upper()} #{n % 9999:04d},{merchant},"
            f"online,false,{rng.choice(CATEGORIES)},GENERAL_MERCHANDISE_SUPERSTORES\n"
        )
        if size + len(row) > target_bytes:
            break
        rows.append(row)
        size += len(row)
        n += 1
    return "".join(rows).encode(), n


def database_cpu_seconds() -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend process, when the server
    runs on this machine (read from ``/proc``); None otherwise. With the client's own CPU
    time it measures a step's work on a busy machine, where wall time mostly measures the
    others' load."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, fields 14 and 15 of stat(5), counted after the ")" from field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Uploaded:
    """One file accepted and ingested: wall times, and the ingestion's CPU as printed."""

    upload: DataUpload
    accept_s: float
    ingest_s: float
    cpu: str


def _upload(user: User, label: str, content: bytes) -> Uploaded:
    """Accept ``content`` as the endpoint does, then ingest it as the task does, timed."""
    with mock.patch("uploads.services._enqueue"):
        started = time.perf_counter()
        outcome = upload_create(
            user=user, file_name=f"bench.{label}", content=content, idempotency_key=None
        )
        accept_s = time.perf_counter() - started
    started, started_cpu, started_db = (
        time.perf_counter(),
        time.process_time(),
        database_cpu_seconds(),
    )
    upload = upload_process(upload_id=outcome.upload.pk)
    ingest_s = time.perf_counter() - started
    ingest_cpu = time.process_time() - started_cpu
    ended_db = database_cpu_seconds()
    ingest_db = (
        f"{ended_db - started_db:.2f} s"
        if ended_db is not None and started_db is not None
        else "n/a"
    )
    if upload is None:
        raise CommandError("the upload vanished while processing")
    return Uploaded(upload, accept_s, ingest_s, f"CPU {ingest_cpu:.2f} s, database CPU {ingest_db}")


class Command(BaseCommand):
    help = "Benchmark validation and ingestion of a 10 MB JSON and a 10 MB CSV upload."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size-mb", type=float, default=10.0)
        parser.add_argument(
            "--rounds", type=int, default=1, help="validations timed per file (median printed)"
        )

    def handle(self, *args: Any, size_mb: float, rounds: int, **options: Any) -> None:
        target = min(int(size_mb * 1024 * 1024), settings.UPLOAD_MAX_BYTES)
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"database: {engine}; target size {target / 1024 / 1024:.1f} MB")
        for label, (content, records) in (
            ("json", build_json(target)),
            ("csv", build_csv(target)),
        ):
            self._run(label, content, records, max(1, rounds))

    def _run(self, label: str, content: bytes, records: int, rounds: int) -> None:
        # Timed untraced; memory measured in a second, traced pass (tracing slows Python 3-5x).
        wall, cpu = [], []
        for _ in range(rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            parse_upload(content, known_account_ids={"bench-checking"}, max_errors=1000)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        validate_s, validate_cpu = statistics.median(wall), statistics.median(cpu)
        tracemalloc.start()
        parse_upload(content, known_account_ids={"bench-checking"}, max_errors=1000)
        _, validate_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        user = User.objects.create_user(f"bench-{time.time_ns()}@example.invalid")
        try:
            consent_grant(user=user, version=None)
            accounts = json.dumps({"accounts": [ACCOUNT]}).encode()
            upload_create(
                user=user, file_name="accounts.json", content=accounts, idempotency_key=None
            )
            first = _upload(user, label, content)
            again = _upload(user, label, content)  # the same rows: merged, nothing written
            tally = first.upload.counts.get("transactions", {})
            unchanged = again.upload.counts.get("transactions", {})
            self.stdout.write(
                f"{label}: {len(content) / 1024 / 1024:.1f} MB, {records} transactions | "
                f"validate {validate_s:.2f} s (CPU {validate_cpu:.2f} s, "
                f"peak {validate_peak / 1024 / 1024:.1f} MB traced) | "
                f"accept {first.accept_s:.2f} s | ingest {first.ingest_s:.2f} s "
                f"({first.upload.status}, {tally.get('created')} created; {first.cpu}) | "
                f"again {again.ingest_s:.2f} s ({again.upload.status}, "
                f"{unchanged.get('created')} created, {unchanged.get('updated')} updated; "
                f"{again.cpu}) | "
                f"process peak RSS {peak_rss_mb():.0f} MB"
            )
        finally:
            user_data_erase(user=user)
            user.delete()
