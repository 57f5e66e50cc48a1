"""``manage.py seed_demo --users N --seed S``: synthetic users through the real pipeline.

Each user is created, grants consent, and uploads a Plaid-shaped file through the same
validation -> storage -> ingestion -> engine path as the API. With ``--operator`` an operator
account is created (or its password reset) for the console; development only.
"""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Role, User
from accounts.users.services import user_set_role
from consent.services import consent_grant
from operator_console.services import demographic_set
from recommendations.synthetic import synthetic_user
from uploads.services import upload_create

OPERATOR_EMAIL = "operator@spendsense.local"


class Command(BaseCommand):
    help = "Create synthetic users with Plaid-shaped data, sent through the upload pipeline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=24)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if users exist.")
        parser.add_argument(
            "--operator", action="store_true", help="Also create an operator sign-in."
        )

    def handle(
        self, *args: Any, users: int, seed: int, if_empty: bool, operator: bool, **options: Any
    ) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates demo accounts; it does not run in production.")
        if users < 0 or users > 100_000:
            raise CommandError("--users must be between 0 and 100000")
        existing = User.objects.filter(email__startswith=f"demo-{seed}-").count()
        if if_empty and existing:
            self.stdout.write(f"{existing} demo users of seed {seed} exist already; nothing to do.")
        else:
            self._seed(users, seed)
        if operator:
            self._operator()

    def _seed(self, count: int, seed: int) -> None:
        tty = sys.stdout.isatty()
        for index in range(count):
            synthetic = synthetic_user(index, seed)
            with transaction.atomic():
                user, created = User.objects.get_or_create(email=synthetic.email)
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                demographic_set(
                    user_id=user.id, age_band=synthetic.age_band, archetype=synthetic.archetype
                )
            consent_grant(user=user, version=None)
            upload_create(
                user=user,
                file_name="plaid.json",
                content=json.dumps(synthetic.body).encode(),
                idempotency_key=f"seed-{seed}-{index}",
            )
            if tty:
                done = index + 1
                bar = "#" * (30 * done // count)
                self.stdout.write(f"\r[{bar:<30}] {done}/{count} users", ending="")
                self.stdout.flush()
        if tty:
            self.stdout.write("")
        self.stdout.write(f"seeded {count} synthetic users (seed {seed})")

    def _operator(self) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(email=OPERATOR_EMAIL)
        user.set_password(password)
        user.save(update_fields=["password"])
        if user.role != Role.OPERATOR:
            user_set_role(user=user, role=Role.OPERATOR)
        self.stdout.write(
            f"operator sign-in for http://127.0.0.1:8000/admin/ : {OPERATOR_EMAIL} / {password}"
        )
