"""The operator console on the Django admin, the /operator API and analytics."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OperatorConsoleConfig(AppConfig):
    name = "operator_console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operator_console import receivers  # models are loaded only now

        receivers.connect()


class OperatorAdminConfig(AdminConfig):
    """Django's admin with our site (analytics page, console branding) as the default."""

    default_site = "operator_console.sites.OperatorAdminSite"
