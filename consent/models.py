"""Consent records: an append-only history of grants and revocations per user."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ConsentAction(models.TextChoices):
    GRANT = "grant", "Granted"
    REVOKE = "revoke", "Revoked"


class ConsentRecord(models.Model):
    """One grant or revocation, with the version of the consent text it refers to.

    Rows are only ever added; the user's ``consent_status``/``consent_version`` mirror the
    latest one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_records"
    )
    action = models.CharField(max_length=8, choices=ConsentAction.choices)
    version = models.CharField(max_length=32)
    data_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} v{self.version} by {self.user_id}"
