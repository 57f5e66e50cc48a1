"""The operator console on the Django admin, the /operator API and analytics."""

from django.apps import AppConfig


class OperatorConsoleConfig(AppConfig):
    name = "operator_console"
    default_auto_field = "django.db.models.BigAutoField"
