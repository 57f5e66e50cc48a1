"""Data uploads: storage, Plaid validation, ingestion of accounts, transactions, liabilities."""

from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from uploads import receivers  # models are loaded only now

        receivers.connect()
