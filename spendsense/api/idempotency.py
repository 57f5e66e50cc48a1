"""``Idempotency-Key`` for POSTs whose effect must not repeat. The key is kept on the row the
request wrote (an upload, a rating), where a unique constraint makes the write idempotent; a
retry with it gets that row back, and the same key with another request is a 409."""

from __future__ import annotations

import re

from rest_framework.request import Request

from spendsense.api.errors import DomainError

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_key(request: Request) -> str | None:
    """The request's key, or None; 400 naming the header when it is malformed."""
    key = request.headers.get(HEADER)
    if key is not None and not _VALID.match(key):
        raise DomainError(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="invalid",
            attr=HEADER,
        )
    return key
