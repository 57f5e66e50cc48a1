"""Password recovery: a reset link mailed to an account's address, and the reset it allows.

Asking answers the same whatever the address: the request only queues a task once the
transaction commits, and the task looks the address up, so neither the body nor the time of
the answer says whether an account exists. The key works once, for an hour; using it sets
the password (every session ends, accounts.signals), and proves the address.
"""

from __future__ import annotations

import hashlib

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from accounts.audit import Action, audit_record
from accounts.keys import InvalidKey, email_key_mail, email_key_take, email_keys_retire
from accounts.models import KeyPurpose, User
from accounts.users.services import password_validate
from spendsense.api.request import RequestMeta
from spendsense.api.throttles import AtomicRateThrottleMixin, ThrottleUnavailable


class ResetAddressThrottle(AtomicRateThrottleMixin, SimpleRateThrottle):
    """Reset mails an hour per address: past it the answer is still 202, but nothing is
    mailed, so nobody can flood an inbox or learn from a 429 (the IP limit answers 429)."""

    scope = "password_reset_email"
    fail_open = False  # without the counter, no mail rather than unlimited mail

    def get_cache_key(self, request: object, view: object) -> str | None:  # pragma: no cover
        return None  # counted explicitly, per address


def _address_allowed(email: str) -> bool:
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    try:
        return ResetAddressThrottle().hit(f"throttle_password_reset_{digest}")
    except ThrottleUnavailable:  # the counter is unreachable (fails closed): send nothing
        return False


def password_reset_request(*, email: str, meta: RequestMeta) -> None:
    """Queue a reset mail for ``email`` (sent only if an active account has it)."""
    email = email.strip()
    if not _address_allowed(email):
        return
    transaction.on_commit(lambda: password_reset_mail.delay(email=email), robust=True)
    audit_record(action=Action.PASSWORD_RESET_REQUEST, actor_id=None, meta=meta)


@shared_task(name="accounts.tasks.password_reset_mail", ignore_result=True)
def password_reset_mail(*, email: str) -> None:
    """Mail a reset link to the active account with ``email``, if there is one."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.email:
        return
    email_key_mail(
        user=user,
        purpose=KeyPurpose.RESET_PASSWORD,
        lifetime_seconds=settings.PASSWORD_RESET_KEY_SECONDS,
        template="password_reset",
        page="reset-password",
    )


@transaction.atomic
def password_reset(*, key: str, password: str, meta: RequestMeta) -> User:
    """Set a new password with a mailed reset key (InvalidKey, 400 on ``key``, for a forged,
    used or expired one, or one mailed to an address the account no longer has). A password
    the validators refuse leaves the key unused. Every session ends; the email is verified."""
    taken = email_key_take(purpose=KeyPurpose.RESET_PASSWORD, key=key)
    user = User.objects.select_for_update().get(pk=taken.user_id)
    if not user.is_active or (user.email or "").lower() != taken.email.lower():
        raise InvalidKey()
    password_validate(password, user)
    user.set_password(password)  # ends every session on save (accounts.signals)
    fields = ["password", "updated_at"]
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()  # the key came from that inbox
        fields.append("email_verified_at")
    user.save(update_fields=fields)
    email_keys_retire(user=user, purpose=KeyPurpose.RESET_PASSWORD)
    audit_record(action=Action.PASSWORD_RESET, actor_id=user.id, meta=meta)
    return user
