"""The engine's Celery task: one chunk of a recompute run (``recommendations.runs``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from recommendations.runs import chunk_recompute


@shared_task(
    name="recommendations.recompute_chunk",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def recompute_chunk(
    user_ids: list[str], run_id: str | None = None, index: int = 0, chunks: int = 1
) -> dict[str, Any]:
    """Recompute the insights of these users (ids); a user who withdrew consent since the
    chunk was enqueued is skipped. Idempotent: a redelivered chunk leaves the same rows."""
    return chunk_recompute(user_ids=user_ids, run_id=run_id, index=index, chunks=chunks)
