"""Request id and the access log.

Every response carries ``X-Request-ID``: the caller's, when it is a sane token, else a new
UUID. One JSON access line per request records id, method, path, status, duration and user.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import csp.constants as csp_constants
import csp.middleware as csp_middleware
import csp.utils as csp_utils
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from spendsense.api.context import request_id_var
from spendsense.api.views import HealthView, ReadyView

access_log = logging.getLogger("spendsense.access")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# Accept what tracing systems send (UUIDs, hex, base64url ids); refuse anything that could
# smuggle content into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _request_id(request: HttpRequest) -> str:
    # META rather than request.headers, which would build a map of every header first.
    supplied = request.META.get(REQUEST_ID_META, "")
    if _VALID_REQUEST_ID.match(supplied):
        return supplied
    return str(uuid.uuid4())


class RequestIdMiddleware:
    """Outermost middleware: sets the request id, echoes it, and writes the access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class PrivateResponseMiddleware:
    """``Cache-Control: no-store`` on every answer under ``/api/v1/``: they carry a person's
    data, their tokens, or errors about either, and no browser or proxy may keep a copy. An
    answer that set its own Cache-Control keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX) and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


class HealthCheckMiddleware:
    """Answers ``/health`` and ``/ready`` before the Host header is checked.

    Load balancer and container health checks address the task by IP, a host that is not
    (and should not be) in ALLOWED_HOSTS; the same DRF views answer, in the same format.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = {"/health": HealthView.as_view(), "/ready": ReadyView.as_view()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path)
        if view is not None and request.method in ("GET", "HEAD"):
            response: HttpResponse = view(request)
            if hasattr(response, "render"):
                response.render()
            return response
        return self.get_response(request)


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, building each policy header once instead of per response.

    Our policy takes no nonce and no per-view change, so every response gets the same
    header; django-csp rebuilt it for each one (about a tenth of a cached read's time).
    Responses with per-view settings, or requests that used a nonce, take django-csp's path.
    """

    _built: dict[tuple[int, bool], str] = {}

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        custom = any(hasattr(response, name) for name in _PER_RESPONSE_CSP) or isinstance(
            getattr(request, "_csp_nonce", None), str
        )
        if custom or (settings.DEBUG and response.status_code in (404, 500)):
            return super().process_response(request, response)
        for header, setting, report_only in (
            (csp_constants.HEADER, "CONTENT_SECURITY_POLICY", False),
            (csp_constants.HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            config = getattr(settings, setting, None) or {}
            memo = (id(config), report_only)
            if memo not in self._built:  # settings objects change only in tests
                self._built[memo] = csp_utils.build_policy(report_only=report_only)
            prefixes = tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())
            policy = self._built[memo]
            if policy and header not in response and not request.path_info.startswith(prefixes):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response


# Attributes django-csp's decorators set on a response to change its policy.
_PER_RESPONSE_CSP = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_config",
    "_csp_config_ro",
    "_csp_update",
    "_csp_update_ro",
    "_csp_replace",
    "_csp_replace_ro",
)


# --- middleware only the console needs ---------------------------------------------------

API_PREFIX = "/api/v1/"


class _ConsoleOnly(MiddlewareMixin):
    """Skips a middleware under ``/api/v1/``: API callers send Bearer tokens, never cookies,
    so sessions, the session user and messages serve only the console (and the docs).
    Subclassing keeps Django's admin checks, which look for these classes, satisfied."""

    def __call__(self, request: HttpRequest) -> Any:  # sync only: WSGI
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class ConsoleSessionMiddleware(_ConsoleOnly, SessionMiddleware):
    pass


class ConsoleAuthenticationMiddleware(_ConsoleOnly, AuthenticationMiddleware):
    pass


class ConsoleMessageMiddleware(_ConsoleOnly, MessageMiddleware):
    pass
