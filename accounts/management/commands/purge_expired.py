"""``manage.py purge_expired``: delete long-expired and long-revoked sessions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.sessions.services import sessions_purge_expired


class Command(BaseCommand):
    help = "Delete sessions that expired or were revoked more than --days days ago."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        deleted = sessions_purge_expired(older_than_days=days)
        self.stdout.write(f"deleted {deleted} sessions")
