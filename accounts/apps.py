"""Users, roles, sessions and tokens, and every /auth and /users/me endpoint."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            schema,  # noqa: F401  (registers the OpenAPI auth schemes)
            signals,
        )

        signals.connect()
