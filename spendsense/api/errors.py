"""The one error format (DESIGN §3), shared by every endpoint.

drf-standardized-errors renders ``{"type", "errors": [{"code", "detail", "attr"}]}``. This
subclass adds two rules of ours: error bodies carry no per-request values (the throttle's
wait goes in ``Retry-After`` only, so two equal failures have equal bodies), and Django's
own error views answer in the same JSON instead of HTML.
"""

from __future__ import annotations

from typing import Any

from django import db
from django.http import HttpRequest, JsonResponse
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail


class ExceptionHandler(BaseExceptionHandler):
    """Standardised errors with constant bodies."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, exceptions.Throttled):
            # DRF writes "Expected available in N seconds." into the detail; the header says it.
            constant = exceptions.Throttled()
            constant.detail = ErrorDetail("Request was throttled.", code="throttled")
            constant.wait = exc.wait  # type: ignore[attr-defined]
            return constant
        if isinstance(exc, DomainError) and exc.status_code == 400:
            # A service's 400 names a field, like a serializer's: the same type for both.
            return exceptions.ValidationError(exc.detail)
        if isinstance(exc, (db.OperationalError, db.InterfaceError)):
            # The database is down or unreachable: a retryable 503, never a stack trace.
            unavailable = ServiceUnavailable(
                "The service is briefly unavailable; try again shortly.",
                code="database_unavailable",
            )
            unavailable.wait = 5  # type: ignore[attr-defined]  # sent as Retry-After
            return unavailable
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc: exceptions.APIException) -> dict[str, Any]:
        if isinstance(exc, ErrorList):
            kind = "validation_error" if exc.status_code == 400 else "client_error"
            return {"type": kind, "errors": exc.errors}
        return super().format_exception(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict[str, str]:
        headers: dict[str, str] = super().get_headers(exc)
        if isinstance(exc, ErrorList):
            headers.update(exc.headers)
        return headers


class DomainError(exceptions.APIException):
    """Base for errors raised by services: a stable ``code``, a status and a message.

    Services raise these; the exception handler renders them. Views never build error bodies.
    """

    status_code = 400
    default_code = "invalid"
    default_detail = "The request could not be processed."

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, attr: str | None = None
    ) -> None:
        message = detail if detail is not None else str(self.default_detail)
        # With an attr the formatter reports it as the error's "attr" (the field it is about).
        super().__init__(detail={attr: [message]} if attr else message, code=code)


class ErrorList(exceptions.APIException):
    """Several located errors at once, in the order found (an upload's validation): the
    handler renders them as they are, in the one format, with ``headers`` added."""

    def __init__(
        self,
        errors: list[dict[str, Any]],
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=errors[0]["detail"] if errors else None)
        self.status_code = status
        self.errors = errors
        self.headers = headers or {}


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class ServiceUnavailable(DomainError):
    status_code = 503
    default_code = "unavailable"
    default_detail = "The service is temporarily unavailable."


def _error_body(kind: str, code: str, detail: str) -> dict[str, Any]:
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(_error_body("client_error", "bad_request", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    body = _error_body(
        "client_error", "permission_denied", "You do not have permission to perform this action."
    )
    return JsonResponse(body, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(_error_body("client_error", "not_found", "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_error_body("server_error", "error", "Server Error (500)"), status=500)
