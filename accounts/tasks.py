"""Periodic housekeeping of the accounts app."""

from __future__ import annotations

from celery import shared_task

from accounts.mail import send_email
from accounts.services import sessions_purge_expired

__all__ = ["purge_expired", "send_email"]  # send_email lives with the mail it sends


@shared_task(name="accounts.tasks.purge_expired", ignore_result=True)
def purge_expired() -> int:
    """Delete sessions that expired or were revoked more than a week ago (Celery beat)."""
    return sessions_purge_expired()
