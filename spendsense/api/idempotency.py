"""``Idempotency-Key`` for POSTs whose effect must not repeat: the first answer is replayed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from rest_framework.request import Request
from rest_framework.response import Response

from spendsense import coherence
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
    caller = request.user.pk
    if caller is None:  # only signed-in people's requests are replayed
        return run()
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    # One of the caller's cached entries: erasing their data erases it too.
    name = f"idem:{digest}"
    stored = coherence.kept(caller, name)
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
        coherence.keep(
            caller,
            name,
            {"fingerprint": fingerprint, "status": response.status_code, "body": response.data},
            ttl=REPLAY_SECONDS,
        )
    return response
