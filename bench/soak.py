"""``make soak``: 1000 concurrent users (locust, with 1 to 3 s of think time) for 60 s against
gunicorn with production settings on 127.0.0.1; prints throughput, latency and error rate."""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import REPO, common_arguments, log, running_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--spawn-rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    common_arguments(parser)
    args = parser.parse_args()
    with running_server(
        workers=args.workers,
        port=args.port,
        database_url=args.database_url,
        redis_url=args.redis_url,
    ) as (root, tokens, var, _group):
        prefix = var / "soak"
        log(f"locust: {args.users} users, {args.seconds}s, think time 1-3 s")
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(REPO / "bench" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{args.seconds}s",
                "--host",
                root,
                "--csv",
                str(prefix),
            ],
            cwd=REPO,
            env={**os.environ, "SOAK_ACCESS_TOKEN": tokens["reader"]},
            capture_output=True,
            check=False,
            timeout=args.seconds + 120,
        )
        rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115
        failures = list(csv.DictReader(open(f"{prefix}_failures.csv")))  # noqa: SIM115
    log(
        f"{'name':<18} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for row in rows:
        log(
            f"{row['Name']:<18} {row['Request Count']:>9} {row['Failure Count']:>9} "
            f"{float(row['Requests/s']):>8.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    for failure in failures[:5]:  # why requests failed, most frequent first as locust lists
        log(f"failed: {failure['Name']} x{failure['Occurrences']}: {failure['Error'][:160]}")
    total = next(row for row in rows if row["Name"] == "Aggregated")
    if int(total["Request Count"]) == 0:
        log("no request was made: the locust run failed (run it by hand to see why)")
        return 1
    rate = int(total["Failure Count"]) / max(int(total["Request Count"]), 1)
    log(f"error rate: {rate:.3%} (target under 0.1 %)")
    return 0 if rate < 0.001 else 1


if __name__ == "__main__":
    sys.exit(main())
