"""Phone numbers and one-time SMS codes.

Codes are 6 digits from ``secrets``, kept only as an HMAC in the cache for 10 minutes, single
use, void after 5 wrong tries, compared in constant time; a new code replaces the old.
Single use holds under concurrency: a right code is *taken* by one atomic compare-and-delete
in Redis (a Lua script), so of any number of simultaneous verifies one succeeds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.sms import sms_backend
from spendsense.api.errors import DomainError, ServiceUnavailable
from spendsense.redis import redis_client

# Digits with the usual separators; letters (vanity numbers) are refused, not translated.
_PHONE_CHARS = re.compile(r"^\+[0-9 ()\-.]{6,24}$")


class InvalidPhone(DomainError):
    default_code = "invalid_phone"
    default_detail = "Enter a phone number in international format, e.g. +14155550123."


class InvalidCode(DomainError):
    default_code = "invalid_code"
    default_detail = "The code is wrong or has expired."


def phone_normalize(raw: str) -> str:
    """The number in E.164, or InvalidPhone (400 naming ``phone_number``)."""
    value = (raw or "").strip()
    if not _PHONE_CHARS.match(value):
        raise InvalidPhone(attr="phone_number")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(attr="phone_number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(attr="phone_number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_region_allowed(phone: str) -> bool:
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    return region in settings.SMS_ALLOWED_REGIONS


def _digest(phone: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _key(phone: str, kind: str) -> str:
    # Keys name a hash of the number, not the number.
    return f"sms:{kind}:{hashlib.sha256(phone.encode()).hexdigest()[:32]}"


def _spend_budget() -> None:
    key = f"sms:budget:{timezone.now().date().isoformat()}"
    cache.add(key, 0, timeout=2 * 24 * 3600)
    try:
        sent = cache.incr(key)
    except ValueError:
        sent = None
    if sent is None or sent > settings.SMS_DAILY_BUDGET:
        raise ServiceUnavailable(
            "Text messages are unavailable right now; try again later.", code="sms_unavailable"
        )


def code_send(*, phone: str) -> None:
    """Create a code for ``phone`` (replacing any earlier one) and text it.

    Numbers outside the allowed regions are silently not texted: the caller answers the
    same 202 either way, so the endpoint tells nothing about which numbers we serve.
    """
    if not phone_region_allowed(phone):
        return
    _spend_budget()
    code = f"{secrets.randbelow(1_000_000):06d}"
    cache.set(_key(phone, "code"), _digest(phone, code), timeout=settings.SMS_CODE_TTL_SECONDS)
    cache.delete(_key(phone, "tries"))
    if cache.get(_key(phone, "code")) is None:
        # The cache is down: a code we cannot check later must not be sent.
        raise ServiceUnavailable(
            "Text messages are unavailable right now; try again later.", code="sms_unavailable"
        )
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    sms_backend().send(
        to=phone, body=f"Your SpendSense code is {code}. It expires in {minutes} minutes."
    )


# Delete KEYS[1] only if it still holds ARGV[1]: 1 for the one caller that took it, else 0.
# Not GETDEL: that would burn the code on a wrong guess; not GET then DEL: two callers
# could both read it, and a code sent in between could be deleted for an old one.
_TAKE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_take_script: Any = None


def _code_take(key: str, digest: str) -> bool:
    """Take the stored code if it is ``digest``: True for exactly one caller."""
    global _take_script
    redis = redis_client()
    if redis is None:
        # The local-memory cache (embedded mode, one process): delete reports, under the
        # cache's lock, whether this caller removed the entry.
        return cache.get(key) == digest and bool(cache.delete(key))
    if _take_script is None:
        _take_script = redis.register_script(_TAKE_SCRIPT)
    expected = cache.client.encode(digest)  # type: ignore[attr-defined]
    return bool(_take_script(keys=[cache.make_key(key)], args=[expected], client=redis))


def code_check(*, phone: str, code: str) -> None:
    """Accept the code once, or raise InvalidCode (also after 5 wrong tries, even if right)."""
    if not re.fullmatch(r"\d{6}", code or ""):
        raise InvalidCode(attr="code")
    stored = cache.get(_key(phone, "code"))
    tries_key = _key(phone, "tries")
    cache.add(tries_key, 0, timeout=settings.SMS_CODE_TTL_SECONDS)
    try:
        tries = cache.incr(tries_key)
    except ValueError:
        tries = settings.SMS_MAX_ATTEMPTS + 1
    if stored is None or tries is None or tries > settings.SMS_MAX_ATTEMPTS:
        cache.delete(_key(phone, "code"))
        raise InvalidCode(attr="code")
    digest = _digest(phone, code)
    if not hmac.compare_digest(stored, digest):
        raise InvalidCode(attr="code")
    if not _code_take(_key(phone, "code"), digest):  # another verify took it first
        raise InvalidCode(attr="code")
    cache.delete(tries_key)
