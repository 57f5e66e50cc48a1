"""What a service keeps of the request that made it act: plain values, never the request."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from spendsense.api.net import client_ip


@dataclass(frozen=True)
class RequestMeta:
    """Where a call came from, for the audit trail and a session's record. Empty when no
    request made it (a command, a task)."""

    ip: str | None = None  # the client's address as the throttles see it (spendsense.api.net)
    user_agent: str = ""  # at most 256 characters, as stored
    request_id: str = ""  # spendsense.api.middleware's X-Request-ID


def request_meta(request: HttpRequest | None) -> RequestMeta:
    """The one way a request becomes a RequestMeta (DRF's Request passes for an HttpRequest)."""
    if request is None:
        return RequestMeta()
    return RequestMeta(
        ip=client_ip(request) or None,
        user_agent=request.headers.get("User-Agent", "")[:256],
        request_id=getattr(request, "request_id", ""),
    )
