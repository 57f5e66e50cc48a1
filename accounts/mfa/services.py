"""Multi-factor authentication: TOTP (RFC 6238) with recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Any

import pyotp
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.audit import Action, audit_record
from accounts.models import MfaDevice, User
from accounts.reauth import Reauthentication, reauthentication_check
from spendsense.api.errors import Conflict, DomainError
from spendsense.api.request import RequestMeta

ISSUER = "SpendSense"
MFA_TOKEN_SECONDS = 300
MFA_TOKEN_TRIES = 5
RECOVERY_CODES = 10


class InvalidMfaCode(DomainError):
    default_code = "invalid_mfa_code"
    default_detail = "The code is wrong, expired or already used."


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def mfa_active(user: User) -> bool:
    device = MfaDevice.objects.filter(user=user).first()
    return bool(device and device.active)


def mfa_setup(*, user: User) -> dict[str, str]:
    """A new secret (replacing an unconfirmed one); 409 when MFA is already active."""
    existing = MfaDevice.objects.filter(user=user).first()
    if existing is not None and existing.active:
        raise Conflict(
            "Two-factor authentication is already on; turn it off first.", code="mfa_active"
        )
    secret = pyotp.random_base32()
    MfaDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret": secret,
            "confirmed_at": None,
            "last_used_step": 0,
            "recovery_code_hashes": [],
        },
    )
    return {"secret": secret, "otpauth_uri": otpauth_uri(user, secret)}


def otpauth_uri(user: User, secret: str) -> str:
    """What an authenticator app scans to add ``secret`` for ``user``."""
    label = user.email or user.phone_number or str(user.id)
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def _accept_totp(device: MfaDevice, code: str) -> bool:
    """True for a current code (±30 s) newer than the last one used; records its step."""
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(device.secret)
    now = time.time()
    for offset in (-1, 0, 1):
        at = now + offset * totp.interval
        step = int(at // totp.interval)
        if step > device.last_used_step and secrets.compare_digest(totp.at(at), code):
            updated = MfaDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
                last_used_step=step
            )
            return bool(updated)
    return False


def mfa_activate(*, user: User, code: str, meta: RequestMeta) -> list[str]:
    """Confirm the authenticator with a first code; returns the recovery codes (shown once)."""
    device = MfaDevice.objects.filter(user=user).first()
    if device is None or device.active:
        raise DomainError("Start with /auth/mfa/setup.", code="mfa_not_set_up", attr="code")
    if not _accept_totp(device, code):
        raise InvalidMfaCode(attr="code")
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    MfaDevice.objects.filter(pk=device.pk).update(
        confirmed_at=timezone.now(), recovery_code_hashes=[_hash(c) for c in codes]
    )
    audit_record(action=Action.MFA_ACTIVATE, actor_id=user.id, meta=meta)
    return codes


def mfa_deactivate(*, user: User, proof: Reauthentication, meta: RequestMeta) -> None:
    """Turn the second factor off; the caller re-authenticates first (accounts.reauth)."""
    reauthentication_check(user=user, proof=proof)
    MfaDevice.objects.filter(user=user).delete()
    audit_record(action=Action.MFA_DEACTIVATE, actor_id=user.id, meta=meta)


def mfa_challenge(*, user: User) -> dict[str, Any]:
    """The answer to a correct first factor while MFA is on: a short-lived, single-use token."""
    token = signing.dumps({"u": str(user.id), "n": uuid.uuid4().hex}, salt="spendsense.mfa")
    return {"mfa_required": True, "mfa_token": token}


def mfa_verify(*, mfa_token: str, code: str, meta: RequestMeta) -> User:
    """The second factor: a current TOTP code or an unused recovery code."""
    try:
        payload = signing.loads(mfa_token, salt="spendsense.mfa", max_age=MFA_TOKEN_SECONDS)
    except signing.BadSignature:
        raise InvalidMfaCode(
            "The sign-in has expired; start again.", code="mfa_token_invalid", attr="mfa_token"
        ) from None
    used_key, tries_key = f"mfa:used:{payload['n']}", f"mfa:tries:{payload['n']}"
    if cache.get(used_key):
        raise InvalidMfaCode(
            "The sign-in has expired; start again.", code="mfa_token_invalid", attr="mfa_token"
        )
    cache.add(tries_key, 0, timeout=MFA_TOKEN_SECONDS)
    try:
        tries = cache.incr(tries_key)
    except ValueError:
        tries = MFA_TOKEN_TRIES + 1
    if tries is None or tries > MFA_TOKEN_TRIES:
        raise InvalidMfaCode(
            "Too many wrong codes; start again.", code="mfa_token_invalid", attr="mfa_token"
        )
    user = User.objects.filter(pk=payload["u"], is_active=True).first()
    device = MfaDevice.objects.filter(user=user).first() if user else None
    if user is None or device is None or not device.active:
        raise InvalidMfaCode(attr="code")
    accepted = _accept_totp(device, code)
    if not accepted:
        with transaction.atomic():
            locked = MfaDevice.objects.select_for_update().get(pk=device.pk)
            digest = _hash(code)
            if digest in locked.recovery_code_hashes:
                locked.recovery_code_hashes = [
                    h for h in locked.recovery_code_hashes if h != digest
                ]
                locked.save(update_fields=["recovery_code_hashes"])
                accepted = True
                audit_record(action=Action.MFA_RECOVERY_CODE_USED, actor_id=user.id, meta=meta)
    if not accepted:
        audit_record(action=Action.MFA_FAILURE, actor_id=user.id, meta=meta)
        raise InvalidMfaCode(attr="code")
    cache.set(used_key, "1", timeout=MFA_TOKEN_SECONDS)
    audit_record(action=Action.MFA_SUCCESS, actor_id=user.id, meta=meta)
    return user
