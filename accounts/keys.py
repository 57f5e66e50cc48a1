"""Keys we mail to an address: issued, and taken back exactly once.

A key is 256 random bits; only its SHA-256 hash is stored (``EmailKey``), so a database
reader cannot use one. Taking a key is one conditional UPDATE: of any number of concurrent
uses of one key, exactly one gets it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.mail import frontend_link, mail_send
from accounts.models import EmailKey, User
from spendsense.api.errors import DomainError


class InvalidKey(DomainError):
    """One answer for a key that is forged, used, expired or for an address no longer the
    account's, so a caller learns nothing about which."""

    default_code = "invalid_key"
    default_detail = "This link is invalid, has been used, or has expired."

    def __init__(self) -> None:
        super().__init__(attr="key")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def email_key_mail(
    *,
    user: User,
    purpose: str,
    lifetime_seconds: int,
    template: str,
    page: str,
    context: dict[str, Any] | None = None,
) -> None:
    """Issue a new key of ``purpose`` for ``user``, bound to the user's current email, and mail
    it there as a link to ``page`` of the web client (``template`` gets it as ``link``)."""
    assert user.email  # noqa: S101 (callers check)
    key = secrets.token_urlsafe(32)
    EmailKey.objects.create(
        user=user,
        purpose=purpose,
        key_hash=_hash(key),
        email=user.email,
        expires_at=timezone.now() + timedelta(seconds=lifetime_seconds),
    )
    link = frontend_link(page, key=key)
    mail_send(to=user.email, template=template, context={**(context or {}), "link": link})


def email_key_take(*, purpose: str, key: str) -> EmailKey:
    """The live key of ``purpose`` matching ``key``, now used; InvalidKey otherwise."""
    now = timezone.now()
    key_hash = _hash(key)
    taken = EmailKey.objects.filter(
        key_hash=key_hash, purpose=purpose, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not taken:
        raise InvalidKey()
    return EmailKey.objects.select_related("user").get(key_hash=key_hash)


def email_keys_retire(*, user: User, purpose: str) -> None:
    """Use up every outstanding key of ``purpose`` of ``user`` (one was used, or the address
    they were sent to is no longer the account's)."""
    EmailKey.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
        used_at=timezone.now()
    )
