"""``manage.py export_parquet [--start YYYY-MM-DD --end YYYY-MM-DD]``: analytics as Parquet."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from operator_console.exports import export_parquet


class Command(BaseCommand):
    help = (
        "Write signals, personas, recommendations and decisions to analytics/dt=<end>/ as Parquet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat)
        parser.add_argument("--end", type=date.fromisoformat)

    def handle(self, *args: Any, start: date | None, end: date | None, **options: Any) -> None:
        end = end or timezone.now().date()
        start = start or end - timedelta(days=29)
        if start > end:
            raise CommandError("--start must not be after --end")
        for name, info in export_parquet(start=start, end=end).items():
            self.stdout.write(f"{name}: {info['rows']} rows -> {info['key']}")
