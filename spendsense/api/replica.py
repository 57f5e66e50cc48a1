"""Read-replica use for API views (the rule itself: spendsense/db.py)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from spendsense.api.permissions import request_caller
from spendsense.db import may_read_replica, pin_to_primary, replica_reads_begin, replica_reads_end


def _caller_id(request: Request) -> Any:
    return getattr(request_caller(request), "pk", None)


class ReplicaReadsMixin:
    """A view whose GETs read from the replica, once the caller is authenticated, allowed
    and throttled on ``default``; a caller whose write through the view succeeded reads
    from ``default`` for ``REPLICA_PIN_SECONDS`` (they see what they wrote)."""

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
        elif request.method not in SAFE_METHODS and response.status_code < 400:
            pin_to_primary(_caller_id(request))
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
