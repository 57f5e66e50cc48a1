"""``manage.py analytics_rebuild [--since YYYY-MM-DD]``: rebuild analytics' derived rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from operator_console.tallies import analytics_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild every user's current-state row, the daily rollups of every closed day "
        "(since --since, default the first recorded day) and the tallies of every user "
        "bucket in SQL, set-based. Run after rows were written outside recompute (a "
        "restore, bench_scale's seeding)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat)

    def handle(self, *args: Any, since: date | None, **options: Any) -> None:
        done = analytics_rebuild(since=since)
        self.stdout.write(
            f"states: {done['states']} rows; rollups: {done['days']} days built; "
            f"tallies: {done['buckets']} buckets built"
        )
