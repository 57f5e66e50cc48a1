"""Log plumbing: every record carries the id of the request that produced it."""

from __future__ import annotations

import logging

from spendsense.api.context import request_id_var


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True
