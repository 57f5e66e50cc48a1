"""The audit trail: append-only rows plus a JSON log line for every security event."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent
from spendsense.api.net import client_ip

logger = logging.getLogger("spendsense.audit")


class Action:
    """The audited actions (stable strings: dashboards and alerts key on them)."""

    REGISTER = "user.register"
    LOGIN_SUCCESS = "auth.login.success"
    LOGIN_FAILURE = "auth.login.failure"
    LOGOUT = "auth.logout"
    SESSION_END = "auth.session.end"
    REFRESH_REUSE = "auth.refresh.reuse"
    PASSWORD_CHANGE = "user.password.change"  # noqa: S105 (an action name)
    PASSWORD_RESET_REQUEST = "user.password.reset_request"  # noqa: S105 (an action name)
    PASSWORD_RESET = "user.password.reset"  # noqa: S105 (an action name)
    EMAIL_CHANGE = "user.email.change"
    EMAIL_VERIFY = "user.email.verify"
    ROLE_CHANGE = "user.role.change"
    DELETE = "user.delete"
    API_KEY_USE = "api_key.use"
    OAUTH_LINK = "auth.oauth.link"
    OAUTH_UNLINK = "auth.oauth.unlink"
    OAUTH_REFUSED = "auth.oauth.refused"


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def audit_record(
    *,
    action: str,
    actor_id: uuid.UUID | None,
    request: HttpRequest | None = None,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row (and its log line). Never put an email or phone in ``details``."""
    event = AuditEvent.objects.create(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        ip=_ip(client_ip(request)) if request is not None else None,
        user_agent=(request.headers.get("User-Agent", "")[:256] if request is not None else ""),
        request_id=getattr(request, "request_id", "") if request is not None else "",
        details=details or {},
    )
    logger.info(
        "audit",
        extra={
            "action": action,
            "actor_id": str(actor_id) if actor_id else None,
            "target_type": target_type,
            "target_id": target_id,
            "details": details or {},
        },
    )
    return event
