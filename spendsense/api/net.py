"""The client's address, the one way: through ``TRUSTED_PROXY_COUNT`` (DRF's NUM_PROXIES)."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The address throttles count by; a raw X-Forwarded-For is never trusted beyond it."""
    return BaseThrottle().get_ident(request).strip()  # type: ignore[arg-type]
