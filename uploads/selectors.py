"""Reads of the upload pipeline, already limited to what the caller may see."""

from __future__ import annotations

from accounts.models import User
from uploads.models import Account, DataUpload, UploadStatus


def known_account_ids(*, user: User) -> set[str]:
    """Accounts a new upload may reference: ingested ones, and those of every earlier upload
    of this user that passed validation, processed or not (DESIGN §6)."""
    known = set(Account.objects.filter(user=user).values_list("account_id", flat=True))
    for ids in (
        DataUpload.objects.filter(user=user)
        .exclude(status=UploadStatus.REJECTED)
        .values_list("account_ids", flat=True)
    ):
        known.update(ids or [])
    return known
