"""SpendSense: the Django project (settings, urls, Celery app, shared API plumbing)."""

from spendsense.celery_app import app as celery_app

__all__ = ["celery_app"]
