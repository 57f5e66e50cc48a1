"""The one error format as tests expect it (spendsense/api/errors.py writes it)."""

from __future__ import annotations

from typing import Any


def error_body(kind: str, *errors: tuple[str, str, str | None]) -> dict[str, Any]:
    """The whole body of an error answer: its ``type`` and each error as (code, detail, attr)."""
    return {"type": kind, "errors": [{"code": c, "detail": d, "attr": a} for c, d, a in errors]}
