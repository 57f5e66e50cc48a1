"""Responses whose body is already rendered."""

from __future__ import annotations

from django.http import HttpResponse


class RenderedJSONResponse(HttpResponse):
    """A body DRF's JSONRenderer rendered earlier (a cached read): sent as it is, byte for
    byte what a ``Response`` of the same data would send."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        super().__init__(body, status=status, content_type="application/json")
