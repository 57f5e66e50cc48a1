"""``manage.py recompute [--user EMAIL_OR_ID ...]``: recompute insights (all consenting users
when none is named)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import ConsentStatus, User
from recommendations.services import user_recompute


class Command(BaseCommand):
    help = "Recompute signals, personas and recommendations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", action="append", default=[], help="email or id; repeatable")

    def handle(self, *args: Any, user: list[str], **options: Any) -> None:
        if user:
            ids = []
            for ref in user:
                try:
                    found = User.objects.filter(pk=uuid.UUID(ref)).first()
                except ValueError:
                    found = User.objects.filter(email__iexact=ref).first()
                if found is None:
                    raise CommandError(f"No user {ref}")
                ids.append(found.pk)
        else:
            ids = list(
                User.objects.filter(consent_status=ConsentStatus.GRANTED).values_list(
                    "pk", flat=True
                )
            )
        for user_id in ids:
            user_recompute(user_id=user_id)
        self.stdout.write(f"recomputed {len(ids)} users")
