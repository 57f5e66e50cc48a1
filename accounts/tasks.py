"""Periodic housekeeping of the accounts app."""

from __future__ import annotations

from celery import shared_task

from accounts.mail import send_email
from accounts.sessions.services import sessions_purge_expired
from accounts.users.recovery import password_reset_mail

# send_email and password_reset_mail live with what they send; listed here for Celery.
__all__ = ["password_reset_mail", "purge_expired", "send_email"]


@shared_task(name="accounts.tasks.purge_expired", ignore_result=True)
def purge_expired() -> int:
    """Delete sessions that expired or were revoked more than a week ago (Celery beat)."""
    return sessions_purge_expired()
