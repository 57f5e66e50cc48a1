"""The engine's Celery task: one chunk of a recompute run (``recommendations.runs``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from recommendations.runs import chunk_recompute


# Late acks and a requeue when a worker dies are the project's defaults (settings).
@shared_task(
    name="recommendations.recompute_chunk",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    max_retries=5,
)
def recompute_chunk(
    user_ids: list[str], run_id: str | None = None, index: int = 0, chunks: int = 1
) -> dict[str, Any]:
    """Recompute the insights of these users (ids); a user who withdrew consent since the
    chunk was enqueued is skipped. Idempotent: a redelivered chunk leaves the same rows."""
    return chunk_recompute(user_ids=user_ids, run_id=run_id, index=index, chunks=chunks)
