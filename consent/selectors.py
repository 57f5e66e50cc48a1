"""Reads on consent."""

from __future__ import annotations

from typing import Any

from accounts.models import ConsentStatus, User
from consent.models import ConsentAction, ConsentRecord


def consent_granted(*, user: User) -> bool:
    return bool(user.consent_status == ConsentStatus.GRANTED)


def consent_status(*, user: User) -> dict[str, Any]:
    """``{granted, version, granted_at, revoked_at, history}``, newest history first."""
    history = list(ConsentRecord.objects.filter(user=user).order_by("-created_at")[:100])
    last_grant = next((r for r in history if r.action == ConsentAction.GRANT), None)
    last_revoke = next((r for r in history if r.action == ConsentAction.REVOKE), None)
    granted = user.consent_status == ConsentStatus.GRANTED
    return {
        "granted": granted,
        "version": user.consent_version,
        "granted_at": last_grant.created_at if last_grant and granted else None,
        "revoked_at": last_revoke.created_at if last_revoke and not granted else None,
        "history": [
            {
                "action": record.action,
                "version": record.version,
                "at": record.created_at,
                "data_deleted": record.data_deleted,
            }
            for record in history
        ],
    }
