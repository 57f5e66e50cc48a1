"""The upload pipeline's Celery task: thin, given an id, retried on transient failures."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.db import DatabaseError, DataError

from uploads.services import upload_fail, upload_process, uploads_requeue_stale

logger = logging.getLogger(__name__)

# Failures worth another try: the database or the storage was briefly unreachable.
TRANSIENT = (DatabaseError, OSError, BotoCoreError, ClientError)
# Failures of the file's own content, which another try cannot mend: the database refused a
# value (DataError: out of range, a NUL byte) or text could not be encoded. Validation is
# meant to catch all of these before the 202; this is the guard if it ever misses one.
CONTENT = (DataError, UnicodeError)


@shared_task(
    bind=True,
    name="uploads.process_upload",
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def process_upload(self: Any, upload_id: str) -> str | None:
    """Ingest one upload and recompute its user's insights. Idempotent."""
    try:
        upload = upload_process(upload_id=upload_id)
    except CONTENT as error:
        logger.exception("upload content refused by the database", extra={"upload_id": upload_id})
        upload_fail(upload_id=upload_id, code="invalid_content", message=str(error)[:500])  # type: ignore[arg-type]
        return None
    except TRANSIENT as error:
        if self.request.retries >= self.max_retries:
            logger.exception("upload failed for good", extra={"upload_id": upload_id})
            upload_fail(upload_id=upload_id, code="processing_failed", message=str(error)[:500])  # type: ignore[arg-type]
            return None
        raise
    return upload.status if upload is not None else None


@shared_task(name="uploads.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Celery beat: enqueue uploads whose processing never started or never finished."""
    return uploads_requeue_stale()
