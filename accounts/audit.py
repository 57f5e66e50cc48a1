"""The audit trail: append-only rows plus a JSON log line for every security event."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from enum import StrEnum
from typing import Any

from accounts.models import AuditEvent
from spendsense.api.request import RequestMeta

logger = logging.getLogger("spendsense.audit")


class Action(StrEnum):
    """Every audited action, for every app: one list, stable strings (dashboards and alerts
    key on them)."""

    # accounts: sign-up, sign-in, sessions
    REGISTER = "user.register"
    LOGIN_SUCCESS = "auth.login.success"
    LOGIN_FAILURE = "auth.login.failure"
    LOGOUT = "auth.logout"
    SESSION_END = "auth.session.end"
    REFRESH_REUSE = "auth.refresh.reuse"
    API_KEY_USE = "api_key.use"
    # accounts: users
    PASSWORD_CHANGE = "user.password.change"  # noqa: S105 (an action name)
    PASSWORD_RESET_REQUEST = "user.password.reset_request"  # noqa: S105 (an action name)
    PASSWORD_RESET = "user.password.reset"  # noqa: S105 (an action name)
    EMAIL_CHANGE = "user.email.change"
    EMAIL_VERIFY = "user.email.verify"
    ROLE_CHANGE = "user.role.change"
    DELETE = "user.delete"
    # accounts: phone, OAuth, MFA
    PHONE_CODE_REQUESTED = "auth.phone.code_requested"
    PHONE_LINK = "auth.phone.link"
    PHONE_UNLINK = "auth.phone.unlink"
    OAUTH_LINK = "auth.oauth.link"
    OAUTH_UNLINK = "auth.oauth.unlink"
    OAUTH_REFUSED = "auth.oauth.refused"
    MFA_ACTIVATE = "auth.mfa.activate"
    MFA_DEACTIVATE = "auth.mfa.deactivate"
    MFA_SUCCESS = "auth.mfa.success"
    MFA_FAILURE = "auth.mfa.failure"
    MFA_RECOVERY_CODE_USED = "auth.mfa.recovery_code_used"
    # consent
    CONSENT_GRANT = "consent.grant"
    CONSENT_REVOKE = "consent.revoke"
    # uploads
    UPLOAD_CREATE = "upload.create"
    DATA_ERASE = "data.erase"
    # operator_console: reviews (exports count every "review." action) and console sign-in
    REVIEW_APPROVE = "review.approve"
    REVIEW_REJECT = "review.reject"
    REVIEW_EDIT = "review.edit"
    REVIEW_FLAG = "review.flag"
    REVIEW_UNFLAG = "review.unflag"
    CONSOLE_LOGIN_SUCCESS = "console.login.success"
    CONSOLE_LOGIN_FAILURE = "console.login.failure"
    CONSOLE_LOGIN_THROTTLED = "console.login.throttled"
    CONSOLE_LOGIN_PASSWORD_OK = "console.login.password_ok"  # noqa: S105 (an action name)
    CONSOLE_MFA_ENROLLED = "console.mfa.enrolled"


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def audit_record(
    *,
    action: Action,
    actor_id: uuid.UUID | None,
    meta: RequestMeta | None = None,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row (and its log line). Never put an email or phone in ``details``.
    ``meta``: the request that made it, if any (spendsense.api.request.request_meta)."""
    meta = meta or RequestMeta()
    event = AuditEvent.objects.create(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        ip=_ip(meta.ip) if meta.ip else None,
        user_agent=meta.user_agent,
        request_id=meta.request_id,
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
