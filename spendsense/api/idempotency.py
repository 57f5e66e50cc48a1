"""``Idempotency-Key`` for POSTs whose effect must not repeat: the first answer is replayed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.response import Response

from spendsense.api.errors import Conflict, DomainError

HEADER = "Idempotency-Key"
REPLAY_SECONDS = 24 * 3600
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


def replay_or_run(
    request: Request, *, scope: str, fingerprint: str, run: Callable[[], Response]
) -> Response:
    """Run once per (caller, scope, key); a retry gets the stored answer, and the same key with
    a different request (``fingerprint``) is a 409."""
    key = idempotency_key(request)
    if key is None:
        return run()
    digest = hashlib.sha256(f"{request.user.pk}:{scope}:{key}".encode()).hexdigest()
    cache_key = f"idem:{digest}"
    stored = cache.get(cache_key)
    if stored is not None:
        if stored["fingerprint"] != fingerprint:
            raise Conflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
                attr=HEADER,
            )
        return Response(stored["body"], status=stored["status"])
    response = run()
    if response.status_code < 500:
        cache.set(
            cache_key,
            {"fingerprint": fingerprint, "status": response.status_code, "body": response.data},
            timeout=REPLAY_SECONDS,
        )
    return response
