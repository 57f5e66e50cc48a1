"""Periodic housekeeping of the accounts app."""

from __future__ import annotations

from celery import shared_task

from accounts.services import sessions_purge_expired


@shared_task(name="accounts.tasks.purge_expired", ignore_result=True)
def purge_expired() -> int:
    """Delete sessions that expired or were revoked more than a week ago (Celery beat)."""
    return sessions_purge_expired()
