"""Writes of the upload pipeline: accept a file, ingest it, erase a user's data.

``upload_create`` validates synchronously (nothing is stored as data from an invalid file),
stores the file with the digest of the bytes that passed, and enqueues ``process_upload``
after the transaction commits; the task reads the stored file without validating it again
only while it has that digest.
``upload_process`` ingests in one transaction with bulk upserts keyed by ``(user, Plaid id)``,
so a run that dies half-way leaves nothing, and a rerun leaves exactly one run's data.

Over 400 lines on purpose: acceptance, ingestion (COPY on PostgreSQL, the ORM elsewhere) and
erasure share the one idempotency rule and its row keys, kept in one module.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils import timezone

from accounts.audit import Action, audit_record
from accounts.models import ConsentStatus, User
from consent.services import consent_require
from spendsense import events, pgcopy
from spendsense.api.errors import Conflict, ServiceUnavailable
from spendsense.api.request import RequestMeta
from spendsense.lookups import AnyOf
from uploads.models import Account, DataUpload, Liability, Transaction, UploadStatus
from uploads.selectors import known_account_ids
from uploads.validation import ParsedUpload, UploadRejected, parse_upload, read_validated

logger = logging.getLogger(__name__)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class UploadOutcome:
    upload: DataUpload
    replayed: bool  # an Idempotency-Key retry: the first answer again


def storage_name(file_name: str) -> str:
    """A file name safe as the last part of a storage key."""
    cleaned = _UNSAFE_NAME.sub("_", file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
    return cleaned[:100] or "upload"


def upload_create(
    *,
    user: User,
    file_name: str,
    content: bytes,
    idempotency_key: str | None,
    meta: RequestMeta | None = None,
) -> UploadOutcome:
    """Accept one file: validate it, store it, queue its processing.

    An invalid file is recorded as ``rejected`` with its validation result (and no stored
    file) before UploadRejected propagates. With an ``idempotency_key`` already used by this
    user, the first upload is returned (409 if the key came with a different file).
    """
    consent_require(user=user)
    sha256 = hashlib.sha256(content).hexdigest()
    if idempotency_key:
        earlier = DataUpload.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, sha256)

    upload = DataUpload(
        id=uuid.uuid4(),
        user=user,
        file_name=file_name[:255],
        file_size=len(content),
        sha256=sha256,
        idempotency_key=idempotency_key,
        file_format="",
    )
    try:
        parsed = _parse(content, user)
    except UploadRejected as rejected:
        upload.status = UploadStatus.REJECTED
        upload.validation = {
            "errors": [error.__dict__ for error in rejected.errors],
            "error_count": rejected.error_count,
        }
        upload.file_format = _format_of(content)
        upload.processed_at = timezone.now()
        earlier = _save_new(upload)
        if earlier is not None:
            return _replay(earlier, sha256)
        rejected.upload_id = upload.id
        raise

    upload.status = UploadStatus.QUEUED
    upload.validated_sha256 = sha256  # these bytes passed; the task may trust them as stored
    upload.file_format = parsed.file_format
    upload.account_ids = parsed.account_ids
    upload.validation = {"errors": [], "error_count": 0}
    upload.storage_key = f"uploads/{user.id}/{upload.id}/{storage_name(file_name)}"
    try:
        with transaction.atomic():
            earlier = _save_new(upload)
            if earlier is not None:
                return _replay(earlier, sha256)
            saved_as = default_storage.save(upload.storage_key, ContentFile(content))
            if saved_as != upload.storage_key:
                DataUpload.objects.filter(pk=upload.pk).update(storage_key=saved_as)
                upload.storage_key = saved_as
            transaction.on_commit(lambda: _enqueue(upload.id))
    except (OSError, BotoCoreError, ClientError) as error:
        # Nothing is recorded: the row rolled back with the failed write.
        logger.exception("upload storage failed", extra={"upload_id": str(upload.id)})
        raise ServiceUnavailable(
            "File storage is unavailable; nothing was recorded. Try again later.",
            code="storage_unavailable",
        ) from error
    audit_record(
        action=Action.UPLOAD_CREATE,
        actor_id=user.id,
        meta=meta,
        target_type="upload",
        target_id=str(upload.id),
        details={"size": upload.file_size, "format": upload.file_format},
    )
    upload.refresh_from_db()
    return UploadOutcome(upload=upload, replayed=False)


def _parse(content: bytes, user: User) -> ParsedUpload:
    """Validate a file against the user's accounts (on upload, and again in the task)."""
    return parse_upload(
        content,
        known_account_ids=known_account_ids(user=user),
        max_errors=settings.UPLOAD_MAX_ERRORS,
    )


def _parse_stored(upload: DataUpload, content: bytes) -> ParsedUpload:
    """The records of an upload's stored file, for the task. The bytes validation accepted
    at upload (the same SHA-256) are read without checking them again where a reader for
    them exists (``read_validated``); any other bytes (the object changed in storage) and an
    upload without that digest are validated in full, against the user's accounts as they
    are now."""
    digest = hashlib.sha256(content).hexdigest()
    if upload.validated_sha256 and hmac.compare_digest(digest, upload.validated_sha256):
        parsed = read_validated(content)
        if parsed is not None:
            return parsed
    return _parse(content, upload.user)


def _format_of(content: bytes) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"{", b"[") else "csv" if b"," in content[:4096] else ""


def _save_new(upload: DataUpload) -> DataUpload | None:
    """Insert ``upload``; None, or the upload of a concurrent request that took its key."""
    try:
        with transaction.atomic():
            upload.save(force_insert=True)
    except IntegrityError:
        earlier = DataUpload.objects.filter(
            user=upload.user, idempotency_key=upload.idempotency_key
        ).first()
        if earlier is None:
            raise
        return earlier
    return None


def _replay(earlier: DataUpload, sha256: str) -> UploadOutcome:
    if earlier.sha256 != sha256:
        raise Conflict(
            "This Idempotency-Key was used with a different file.",
            code="idempotency_key_reused",
            attr="Idempotency-Key",
        )
    return UploadOutcome(upload=earlier, replayed=True)


def _enqueue(upload_id: uuid.UUID) -> None:
    from uploads.tasks import process_upload

    try:
        process_upload.delay(str(upload_id))
    except Exception:
        # The upload is committed as queued; the periodic sweep (uploads_requeue_stale)
        # enqueues it once the broker is back. The client already has its 202.
        logger.exception("could not enqueue upload", extra={"upload_id": str(upload_id)})


def uploads_requeue_stale(*, older_than_seconds: int = 300) -> int:
    """Enqueue again uploads left queued (or stuck processing) longer than the threshold."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(
        DataUpload.objects.filter(
            status__in=[UploadStatus.QUEUED, UploadStatus.PROCESSING], created_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for upload_id in stale:
        _enqueue(upload_id)
    return len(stale)


# --- ingestion ---------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    "name",
    "official_name",
    "mask",
    "type",
    "subtype",
    "current",
    "available",
    "limit",
    "iso_currency_code",
    "unofficial_currency_code",
)
TRANSACTION_FIELDS = (
    "account_id",
    "date",
    "authorized_date",
    "amount",
    "iso_currency_code",
    "unofficial_currency_code",
    "name",
    "merchant_name",
    "payment_channel",
    "pending",
    "pfc_primary",
    "pfc_detailed",
    "category_source",
)
LIABILITY_FIELDS = (
    "is_overdue",
    "minimum_payment_amount",
    "last_payment_amount",
    "last_statement_balance",
    "next_payment_due_date",
    "interest_rate_percentage",
    "details",
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


def _use_copy() -> bool:
    """Whether ingestion writes through COPY (PostgreSQL) or the ORM (SQLite): the one place
    that decides."""
    return pgcopy.available()


def _upsert(
    model: type[Model],
    user: User,
    records: list[dict[str, Any]],
    key_fields: tuple[str, ...],
    value_fields: tuple[str, ...],
) -> tuple[int, int]:
    """Insert new rows and update changed ones; unchanged rows are not written.

    Returns (created, updated). Keys are ``(user, *key_fields)``, the model's unique
    constraint, so a concurrent insert of the same row turns into an update. On PostgreSQL
    the records go through COPY and one ``INSERT … ON CONFLICT`` (``spendsense.pgcopy``), or
    straight into the table when the user has no row there yet (``_ingest`` holds the
    user's ingestion lock, so none can appear meanwhile); elsewhere through the ORM. All
    store the same rows and count the same.
    """
    if not records:
        return 0, 0
    if _use_copy():
        values, owner = itemgetter(*key_fields, *value_fields), user.pk
        first = not model._default_manager.filter(user=user).exists()
        written = pgcopy.copy_upsert(
            model,
            ("user", *key_fields, *value_fields),
            ((owner, *values(record)) for record in records),
            unique_fields=() if first else ("user", *key_fields),
            update_fields=() if first else value_fields,
        )
        return written.created, written.updated
    # The ORM: the file's existing rows read, compared in Python, and the new or changed
    # ones written by bulk_create(update_conflicts=True).
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    key_values = {tuple(record[name] for name in key_fields) for record in records}
    lookup_field = key_fields[-1]
    rows = model._default_manager.filter(
        AnyOf(F(lookup_field), [key[-1] for key in key_values]), user=user
    ).values(*key_fields, *value_fields)
    for row in rows:
        existing[tuple(row[name] for name in key_fields)] = row
    to_write = []
    created = updated = 0
    for record in records:
        key = tuple(record[name] for name in key_fields)
        current = existing.get(key)
        if current is None:
            created += 1
        elif all(_same(current[name], record[name]) for name in value_fields):
            continue
        else:
            updated += 1
        to_write.append(
            model(user_id=user.pk, **{name: record[name] for name in (*key_fields, *value_fields)})
        )
    for start in range(0, len(to_write), 2000):
        model._default_manager.bulk_create(
            to_write[start : start + 2000],
            update_conflicts=True,
            unique_fields=["user", *key_fields],
            update_fields=[*value_fields, "updated_at"],
        )
    return created, updated


# The namespace of the per-user ingestion lock among PostgreSQL's two-key advisory locks
# (any constant of our own; the one-key locks, such as the rollups', are a separate space).
INGEST_LOCK = 0x55504C44  # "UPLD"


def _lock_ingestion(user: User) -> None:
    """Hold ``user``'s ingestion lock until the transaction ends: their uploads are merged
    one at a time, so ``_upsert`` may insert a user's first rows without a merge. Read
    committed (Django's default) lets the next statement see what the previous holder
    wrote."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [INGEST_LOCK, str(user.pk)]
        )


def _ingest(user: User, parsed: ParsedUpload) -> dict[str, dict[str, int]]:
    if _use_copy():
        _lock_ingestion(user)
    accounts = _upsert(Account, user, parsed.accounts, ("account_id",), ACCOUNT_FIELDS)
    transactions = _upsert(
        Transaction, user, parsed.transactions, ("transaction_id",), TRANSACTION_FIELDS
    )
    removed = 0
    if parsed.removed:
        # An id we never saw is a no-op (DESIGN §6).
        removed, _ = Transaction.objects.filter(
            user=user, transaction_id__in=parsed.removed
        ).delete()
    # Plaid allows a credit card's or student loan's account_id to be null. Such a liability
    # has nothing to be keyed or joined by: it is counted, not stored, and the engine never
    # sees it (the stored file keeps it as sent).
    attached = [record for record in parsed.liabilities if record["account_id"]]
    without_account = len(parsed.liabilities) - len(attached)
    liabilities = _upsert(Liability, user, attached, ("kind", "account_id"), LIABILITY_FIELDS)
    return {
        "accounts": {"created": accounts[0], "updated": accounts[1], "removed": 0},
        "transactions": {
            "created": transactions[0],
            "updated": transactions[1],
            "removed": removed,
        },
        "liabilities": {
            "created": liabilities[0],
            "updated": liabilities[1],
            "removed": 0,
            "without_account": without_account,
        },
    }


def upload_process(*, upload_id: uuid.UUID | str) -> DataUpload | None:
    """Ingest one queued upload. Idempotent: a processed upload is left as it is.

    Raises on transient failures (database, storage) so the task retries; the upload stays
    ``processing`` until a run completes or the task gives up (see ``upload_fail``).
    """
    upload = DataUpload.objects.select_related("user").filter(pk=upload_id).first()
    if upload is None:
        return None
    if upload.status in (UploadStatus.PROCESSED, UploadStatus.REJECTED):
        return upload
    user = upload.user
    if user.consent_status != ConsentStatus.GRANTED:
        return upload_fail(
            upload_id=upload.id,
            code="consent_required",
            message="Consent was revoked before processing.",
        )
    # Not over a run that finished meanwhile (a second run of the task, requeued by the stale
    # sweep, waits here on the first's lock on the row): that upload is left as it recorded.
    started = (
        DataUpload.objects.filter(pk=upload.pk)
        .exclude(status__in=(UploadStatus.PROCESSED, UploadStatus.REJECTED))
        .update(
            status=UploadStatus.PROCESSING,
            started_at=timezone.now(),
            attempts=upload.attempts + 1,
        )
    )
    if not started:
        return DataUpload.objects.filter(pk=upload.pk).first()
    with default_storage.open(upload.storage_key, "rb") as handle:
        content = handle.read()
    try:
        parsed = _parse_stored(upload, content)
    except UploadRejected as rejected:
        return upload_fail(upload_id=upload.id, code="invalid", message=rejected.errors[0].detail)
    with transaction.atomic():
        locked = DataUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status == UploadStatus.PROCESSED:
            return locked  # a concurrent run finished first
        counts = _ingest(user, parsed)
        locked.status = UploadStatus.PROCESSED
        locked.counts = counts
        locked.error = ""
        locked.processed_at = timezone.now()
        locked.save(update_fields=["status", "counts", "error", "processed_at"])
    events.announce(events.user_data_changed, user_id=user.id)  # the engine recomputes
    return locked


def upload_fail(*, upload_id: uuid.UUID, code: str, message: str) -> DataUpload | None:
    """Mark an upload failed for good (no more retries)."""
    DataUpload.objects.filter(pk=upload_id).exclude(status=UploadStatus.PROCESSED).update(
        status=UploadStatus.FAILED,
        error=f"{code}: {message}"[:2000],
        processed_at=timezone.now(),
    )
    return DataUpload.objects.filter(pk=upload_id).first()


# --- erasure -----------------------------------------------------------------------------


def user_data_erase(*, user: User) -> dict[str, int]:
    """Erase every upload of ``user`` (stored files too) and every row derived from them."""
    keys = list(
        DataUpload.objects.filter(user=user)
        .exclude(storage_key="")
        .values_list("storage_key", flat=True)
    )
    with transaction.atomic():
        # The engine's rows first, in this transaction: what analytics counted of the user's
        # rows (their uploads too) is read before any of them goes.
        derived: dict[str, int] = {}
        for answer in events.announce(events.user_derived_erase, user_id=user.id):
            derived.update(answer)
        counts = {
            "uploads": DataUpload.objects.filter(user=user).delete()[0],
            "accounts": Account.objects.filter(user=user).delete()[0],
            "transactions": Transaction.objects.filter(user=user).delete()[0],
            "liabilities": Liability.objects.filter(user=user).delete()[0],
            **derived,
        }
    for key in keys:
        try:
            default_storage.delete(key)
        except Exception:  # a file left behind is logged, never blocks erasure of the rows
            logger.exception("could not delete stored upload", extra={"storage_key": key})
    audit_record(action=Action.DATA_ERASE, actor_id=user.id, details=counts)
    return counts
