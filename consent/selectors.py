"""Reads on consent."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from accounts.models import ConsentStatus, User
from consent.models import ConsentAction, ConsentRecord

M = TypeVar("M", bound=Model)


def consent_granted(*, user: User) -> bool:
    return bool(user.consent_status == ConsentStatus.GRANTED)


def visible_to_staff(queryset: QuerySet[M], *, user_field: str | None = "user") -> QuerySet[M]:
    """Only rows of users who consent: all that operators, admins and API keys may see of
    anyone's data, in the API, the console, analytics and exports. ``user_field`` names the
    row's user (None when the rows are users)."""
    lookup = f"{user_field}__consent_status" if user_field else "consent_status"
    return queryset.filter(**{lookup: ConsentStatus.GRANTED})


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
