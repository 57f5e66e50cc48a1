"""Granting and revoking consent. Nothing is computed for a user without it."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.audit import Action, audit_record
from accounts.models import ConsentStatus, User
from consent.models import ConsentAction, ConsentRecord
from consent.selectors import consent_granted
from spendsense import events
from spendsense.api.errors import DomainError
from spendsense.api.request import RequestMeta


class ConsentRequired(DomainError):
    status_code = 403
    default_code = "consent_required"
    default_detail = (
        "Consent is required: grant it with POST /api/v1/consent before uploading data or "
        "reading insights."
    )


class OutdatedConsentVersion(DomainError):
    default_code = "invalid_version"


def consent_require(*, user: User) -> None:
    """Raise ConsentRequired unless ``user`` has granted consent."""
    if not consent_granted(user=user):
        raise ConsentRequired()


def _changing(user: User) -> None:
    """Lock the user's row until the transaction ends (their recomputes and ratings wait) and
    announce the change about to be made, inside the caller's transaction."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    events.announce(events.user_consent_changing, user_id=user.id)


@transaction.atomic
def consent_grant(*, user: User, version: str | None, meta: RequestMeta | None = None) -> bool:
    """Record a grant of the current consent version; False when it was already granted."""
    current = settings.CONSENT_VERSION
    if version is not None and version != current:
        raise OutdatedConsentVersion(
            f"Consent can only be granted to the current version, {current}.", attr="version"
        )
    if user.consent_status == ConsentStatus.GRANTED and user.consent_version == current:
        return False
    _changing(user)
    ConsentRecord.objects.create(user=user, action=ConsentAction.GRANT, version=current)
    user.consent_status = ConsentStatus.GRANTED
    user.consent_version = current
    user.save(update_fields=["consent_status", "consent_version", "updated_at"])
    events.announce(events.user_consent_changed, user_id=user.id)
    audit_record(
        action=Action.CONSENT_GRANT,
        actor_id=user.id,
        meta=meta,
        details={"version": current},
    )
    return True


def consent_revoke(*, user: User, delete_data: bool, meta: RequestMeta | None = None) -> None:
    """Record a revocation; with ``delete_data`` also erase every upload (files too) and every
    row derived from them."""
    with transaction.atomic():
        _changing(user)
        ConsentRecord.objects.create(
            user=user,
            action=ConsentAction.REVOKE,
            version=user.consent_version or settings.CONSENT_VERSION,
            data_deleted=delete_data,
        )
        user.consent_status = ConsentStatus.REVOKED
        user.save(update_fields=["consent_status", "updated_at"])
        events.announce(events.user_consent_changed, user_id=user.id)
        audit_record(
            action=Action.CONSENT_REVOKE,
            actor_id=user.id,
            meta=meta,
            details={"delete_data": delete_data},
        )
    if delete_data:
        events.announce(events.user_data_erase, user=user)  # the uploads app erases
