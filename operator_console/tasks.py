"""Periodic work of the console: the analytics rollups."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from recommendations.state import rollup_pending


@shared_task(name="operator_console.rollup_analytics", ignore_result=True)
def rollup_analytics() -> int:
    """Roll up every closed day of the lookback that is not built yet (Celery beat)."""
    return rollup_pending(lookback_days=settings.ANALYTICS_ROLLUP_LOOKBACK_DAYS)
