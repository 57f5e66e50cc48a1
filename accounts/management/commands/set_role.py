"""``manage.py set_role EMAIL ROLE``: change one user's role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role
from accounts.selectors import user_get_by_login
from accounts.users.services import user_set_role


class Command(BaseCommand):
    help = "Set the role (user, operator, admin) of the user with this email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("role", choices=Role.values)

    def handle(self, *args: Any, email: str, role: str, **options: Any) -> None:
        user = user_get_by_login(email=email, username=None)
        if user is None:
            raise CommandError(f"No user with email {email}")
        user_set_role(user=user, role=role)
        self.stdout.write(f"{email} is now {role}")
