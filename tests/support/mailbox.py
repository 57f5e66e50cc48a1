"""Reading what was mailed (Django's locmem backend, which the test run uses)."""

from __future__ import annotations

import re

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from tests.support.errors import error_body

KEY = re.compile(r"[?&]key=([A-Za-z0-9_-]+)")
# The answer to a mailed link's key that is unknown, used or expired.
BAD_KEY = error_body(
    "validation_error",
    ("invalid_key", "This link is invalid, has been used, or has expired.", "key"),
)


def messages_to(address: str) -> list[EmailMultiAlternatives]:
    return [m for m in mail.outbox if address in m.to]  # type: ignore[misc]


def key_from(message: EmailMultiAlternatives, path: str) -> str:
    """The key of the ``{FRONTEND_URL}/<path>?key=`` link in a message's text."""
    match = re.search(rf"/{path}\?key=([A-Za-z0-9_-]+)", str(message.body))
    assert match, message.body
    return match.group(1)


def last_key(address: str, path: str) -> str:
    return key_from(messages_to(address)[-1], path)
