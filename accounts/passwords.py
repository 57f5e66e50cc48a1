"""Password rules beyond Django's own validators: Have I Been Pwned's breach list.

With ``PASSWORD_BREACH_CHECK`` on, a new password is looked up in the Pwned Passwords range
API with k-anonymity: only the first 5 hex characters of its SHA-1 leave the server, and the
answer (every known suffix under that prefix, padded) is searched here. When the service
cannot be reached the password is accepted and a warning logged: an outage elsewhere must
not stop people from signing up or recovering their account.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

PWNED_RANGE_URL = "https://api.pwnedpasswords.com/range/"


def breach_count(password: str) -> int | None:
    """How often the password appears in known breaches; None when the service is unreachable."""
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    try:
        response = requests.get(
            PWNED_RANGE_URL + prefix,
            headers={"Add-Padding": "true", "User-Agent": "SpendSense password check"},
            timeout=settings.PASSWORD_BREACH_CHECK_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except requests.RequestException as error:
        logger.warning(
            "password breach check unavailable; password accepted",
            extra={"error": type(error).__name__},
        )
        return None
    for line in response.text.splitlines():
        candidate, _, count = line.strip().partition(":")
        if candidate == suffix:
            try:
                return int(count)
            except ValueError:
                return 0
    return 0


class BreachedPasswordValidator:
    """Refuses a password found in a public breach (when PASSWORD_BREACH_CHECK is on)."""

    def validate(self, password: str, user: Any = None) -> None:
        if not settings.PASSWORD_BREACH_CHECK:
            return
        if (breach_count(password) or 0) > 0:  # a padding line has count 0
            raise ValidationError(
                "This password has appeared in a data breach; choose another.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Your password must not appear in a known data breach."
