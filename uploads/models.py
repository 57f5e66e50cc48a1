"""Data uploads and the normalised Plaid data they bring: accounts, transactions, liabilities.

Every data row is unique per ``(user, Plaid id)``: one user's upload can never touch
another's rows. Money is ``NUMERIC(18,4)`` (Plaid sends e.g. ``23631.9805``). Transactions and
liabilities name their account by Plaid ``account_id`` (not a foreign key), so uploads can be
ingested in any order.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from uploads.limits import ID_MAX_LENGTH, NUMBER_DIGITS, NUMBER_PLACES


def money(**options: Any) -> models.DecimalField:
    """NUMERIC(18,4): Plaid's amounts have up to four decimals."""
    return models.DecimalField(max_digits=NUMBER_DIGITS, decimal_places=NUMBER_PLACES, **options)


def plaid_id() -> models.CharField:
    """A Plaid id: part of a unique index, so bounded (``ID_MAX_LENGTH``)."""
    return models.CharField(max_length=ID_MAX_LENGTH)


def text() -> models.TextField:
    """Free text: Plaid sets no length, so neither do we."""
    return models.TextField(blank=True, default="")


class UploadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class DataUpload(models.Model):
    """One file a user sent: where it is stored, whether it validated, what ingesting it did."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveIntegerField()
    file_format = models.CharField(max_length=8)  # json | csv
    storage_key = models.CharField(max_length=512, blank=True, default="")
    sha256 = models.CharField(max_length=64, db_index=True)
    # The SHA-256 of the bytes validation accepted, recorded as they are stored: the task
    # reads a stored file with this digest without validating it again. Empty for an upload
    # that never passed (or was recorded otherwise): the task then validates in full.
    validated_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    status = models.CharField(max_length=16, choices=UploadStatus.choices, db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Plaid account ids this upload declares: "known accounts" for later uploads (DESIGN §6).
    account_ids = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    validation = models.JSONField(default=dict, blank=True)  # {errors: [...], error_count: N}
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="uploads_dataupload_idempotency_unique",
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class Account(models.Model):
    """A Plaid account of one user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bank_accounts"
    )
    account_id = plaid_id()
    name = text()
    official_name = text()
    mask = text()
    type = models.CharField(max_length=32)
    subtype = models.CharField(max_length=64, blank=True, default="")
    current = money(null=True, blank=True)
    available = money(null=True, blank=True)
    limit = money(null=True, blank=True)
    iso_currency_code = models.CharField(max_length=3, blank=True, default="")
    unofficial_currency_code = text()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account_id"], name="uploads_account_user_plaid_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} …{self.mask}"


class CategorySource(models.TextChoices):
    PFC = "pfc", "Plaid personal finance category"
    LEGACY = "legacy", "Mapped from the legacy category list"
    NONE = "none", "Uncategorised"


class Transaction(models.Model):
    """A Plaid transaction; ``amount`` keeps Plaid's sign (positive = money out)."""

    # No index of its own: both indexes below start with the user, and every insert of a
    # 70,000-row upload would update a third.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="transactions",
        db_index=False,
    )
    transaction_id = plaid_id()
    account_id = plaid_id()
    date = models.DateField()
    authorized_date = models.DateField(null=True, blank=True)
    amount = money()
    iso_currency_code = models.CharField(max_length=3, blank=True, default="")
    unofficial_currency_code = text()
    name = text()
    merchant_name = text()
    payment_channel = models.CharField(max_length=16, blank=True, default="")
    pending = models.BooleanField(default=False)
    # As sent (a primary newer than our list included), mapped from the legacy ``category``
    # list, or empty: ``category_source`` says which (uploads/categories.py).
    pfc_primary = text()
    pfc_detailed = text()
    category_source = models.CharField(
        max_length=8, choices=CategorySource.choices, default=CategorySource.PFC
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "transaction_id"], name="uploads_transaction_user_plaid_id"
            )
        ]
        # The engine reads one user's transactions over a date range.
        indexes = [models.Index(fields=["user", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.merchant_name or self.name} {self.amount}"


class LiabilityKind(models.TextChoices):
    CREDIT = "credit", "Credit card"
    MORTGAGE = "mortgage", "Mortgage"
    STUDENT = "student", "Student loan"


class Liability(models.Model):
    """A Plaid liability of one account. The figures the engine uses are columns; the whole
    validated object is kept in ``details`` for display."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liabilities"
    )
    account_id = plaid_id()
    kind = models.CharField(max_length=16, choices=LiabilityKind.choices)
    is_overdue = models.BooleanField(null=True, blank=True)
    minimum_payment_amount = money(null=True, blank=True)
    last_payment_amount = money(null=True, blank=True)
    last_statement_balance = money(null=True, blank=True)
    next_payment_due_date = models.DateField(null=True, blank=True)
    # As wide as every other number: Plaid bounds no figure, and the validator's one range
    # must fit every column it guards.
    interest_rate_percentage = money(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "account_id"], name="uploads_liability_user_kind_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} liability of {self.account_id}"
