"""The engine: signals, personas, recommendations, the content catalog and feedback."""

from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recommendations import receivers  # models are loaded only now

        receivers.connect()
