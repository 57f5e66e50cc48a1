"""Read-replica use for API views, and the pin of a writer to default (the rule itself:
spendsense/db.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from spendsense.api.permissions import request_caller
from spendsense.db import may_read_replica, pin_to_primary, replica_reads_begin, replica_reads_end


def _caller_id(request: Request) -> Any:
    return getattr(request_caller(request), "pk", None)


class PinWritersMiddleware:
    """A signed-in caller whose write succeeded, through the API or the console, reads from
    ``default`` for ``REPLICA_PIN_SECONDS`` (they see what they wrote wherever they read it
    next). Nothing without a replica. DRF sets ``request.user`` on the Django request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            pin_to_primary(getattr(getattr(request, "user", None), "pk", None))
        return response


class ReplicaReadsMixin:
    """A view whose GETs read from the replica, once the caller is authenticated, allowed
    and throttled on ``default``, unless the caller wrote lately (PinWritersMiddleware)."""

    _replica_token: Any = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method in SAFE_METHODS and may_read_replica(_caller_id(request)):
            self._replica_token = replica_reads_begin()

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if self._replica_token is not None:
            replica_reads_end(self._replica_token)
            self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
