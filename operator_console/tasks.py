"""Periodic work of the console: the analytics rollups and tallies."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from operator_console.tallies import tallies_build
from recommendations.state import rollup_pending


@shared_task(name="operator_console.rollup_analytics", ignore_result=True)
def rollup_analytics() -> int:
    """Fold the writes' deltas into the rollups, then roll up every closed day of the
    lookback that is not built yet (Celery beat)."""
    return rollup_pending(lookback_days=settings.ANALYTICS_ROLLUP_LOOKBACK_DAYS)


@shared_task(name="operator_console.tally_analytics", ignore_result=True)
def tally_analytics() -> int:
    """Build the tallies of every user bucket a write changed since (Celery beat)."""
    return tallies_build()
