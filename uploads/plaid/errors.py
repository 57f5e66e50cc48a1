"""Upload errors: our stable codes and locators, and Pydantic's errors translated into them.

A Pydantic error's ``loc`` below a record becomes our ``attr`` under the record's path
(``("date",)`` of ``transactions.17`` is ``transactions.17.date``); its ``type`` maps to one
of our codes (``required``, ``invalid``, ``invalid_choice``, ``max_length``,
``out_of_range``) with the message we have always given for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from uploads.plaid.models import DATE_FIELDS


@dataclass
class UploadError:
    code: str
    detail: str
    attr: str | None


class UploadRejected(Exception):
    """The file cannot be accepted. ``status`` is 400, 413 or 415."""

    def __init__(
        self, errors: list[UploadError], *, error_count: int | None = None, status: int = 400
    ):
        super().__init__(errors[0].detail if errors else "rejected")
        self.errors = errors
        self.error_count = error_count if error_count is not None else len(errors)
        self.status = status
        self.upload_id: Any = None  # set once the rejection is recorded


def reject(code: str, detail: str, *, status: int = 400, attr: str = "file") -> UploadRejected:
    return UploadRejected([UploadError(code, detail, attr)], status=status)


class ErrorLog:
    """Collects errors: all are counted, the first ``cap`` are kept.

    For a CSV, ``lines`` maps a data row to the file's line number, and ``prefix`` is the
    locator prefix of the rows (``transactions``): messages then end with ``(line N)``.
    """

    def __init__(self, cap: int, lines: dict[int, int] | None = None, prefix: str = "") -> None:
        self.cap = cap
        self.items: list[UploadError] = []
        self.count = 0
        self.lines = lines
        self._row = re.compile(rf"^{re.escape(prefix)}\.(\d+)") if lines is not None else None

    def add(self, attr: str, code: str, detail: str) -> None:
        self.count += 1
        if len(self.items) >= self.cap:
            return
        if self._row is not None and self.lines is not None:
            match = self._row.match(attr)
            if match and int(match.group(1)) in self.lines:
                detail = f"{detail} (line {self.lines[int(match.group(1))]})"
        self.items.append(UploadError(code, detail, attr))


# One error of a record: its location inside the record, our code, our message.
Issue = tuple[tuple[str | int, ...], str, str]


class LoneSurrogate:
    """Stands for a string holding a lone surrogate (only a JSON escape such as ``"\\ud800"``
    brings one in). It cannot be encoded for the database; being no ``str``, it fails any
    field that reads it, and is reported there; a field we ignore ignores it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Emptied(str):
    """A string that held nothing but U+0000: empty text for a text field (``""``), yet no
    blank to drop for any other field, which reports it as the wrong type."""

    __slots__ = ()


REQUIRED = "This field is required."
OUT_OF_RANGE = "Must be a finite number below 10^14 in size."
_DATE = "Must be a date in ISO 8601 form (YYYY-MM-DD)."
_SURROGATE = "Must be valid Unicode text (it holds a lone surrogate)."
_NUMBER = "Must be a number."
_INVALID = {
    "string_type": "Must be a string.",
    "is_instance_of": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "bool_type": "Must be true, false or null.",
    "model_type": "Must be an object.",
    "model_attributes_type": "Must be an object.",
    "dict_type": "Must be an object.",
    "list_type": "Must be a list.",
    "value_error": _DATE,  # the only Python check: date.fromisoformat on YYYY-MM-DD
}
_PATTERNS = {
    r"^\d{4}-\d{2}-\d{2}$": _DATE,
    r"^[A-Z]{3}$": "Must be a three-letter ISO 4217 code.",
}
_OUT_OF_RANGE = {"less_than", "greater_than", "finite_number"}
# Where a list is judged whole: one error at the list, whatever its items did.
_WHOLE = {"category": "Must be a list of strings or null."}
_LIST_MESSAGES = {"aprs": "Must be a list of APRs."}
# What a Literal's values are, by field (``type`` of an account; ``loan_status.type`` ...).
_CHOICES = {
    ("type",): "account type",
    ("subtype",): "account subtype",
    ("payment_channel",): "payment channel",
    ("apr_type",): "APR type",
    ("loan_status", "type"): "loan status",
    ("repayment_plan", "type"): "repayment plan",
}


def shown(value: Any) -> str:
    """A value as a message quotes it: JSON, cut to 80 characters."""
    return json.dumps(value.text if isinstance(value, LoneSurrogate) else value, default=str)[:80]


def translate(error: Any) -> Issue:
    """Our (location, code, message) for one of Pydantic's errors. An error on ``None`` is
    a required field left null (an optional one takes ``None``)."""
    loc: tuple[str | int, ...] = error["loc"]
    kind = error["type"]
    value = error.get("input")
    surrogate = isinstance(value, LoneSurrogate)
    if loc and loc[0] in _WHOLE:
        return loc[:1], "invalid", _SURROGATE if surrogate else _WHOLE[str(loc[0])]
    # None in a required field is a missing value; None as a list's item is no object.
    named = bool(loc) and isinstance(loc[-1], str)
    if kind in ("missing", "string_too_short") or (value is None and named):
        return loc, "required", _LIST_MESSAGES.get(str(loc[-1]), REQUIRED)
    if kind in _OUT_OF_RANGE:
        return loc, "out_of_range", OUT_OF_RANGE
    if kind == "literal_error":
        what = _CHOICES.get(tuple(str(part) for part in loc[-2:])) or _CHOICES.get(
            (str(loc[-1]),), "choice"
        )
        return loc, "invalid_choice", f"{shown(value)} is not a valid {what}."
    if kind == "string_type" and loc and loc[-1] in DATE_FIELDS:
        return loc, "invalid", _DATE
    if kind == "string_type" and surrogate:
        return loc, "invalid", _SURROGATE
    if kind == "string_too_long":
        return loc, "max_length", f"Must be at most {error['ctx']['max_length']} characters."
    if kind == "string_pattern_mismatch":
        return loc, "invalid", _PATTERNS.get(error["ctx"]["pattern"], error["msg"])
    if kind == "list_type" and loc and loc[-1] in _LIST_MESSAGES:
        return loc, "invalid", _LIST_MESSAGES[str(loc[-1])]
    return loc, "invalid", _INVALID.get(kind, error["msg"])


def _without(data: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    """A copy of ``data`` without the key at ``path`` (the dicts on the way copied)."""
    copy = dict(data)
    head = path[0]
    if len(path) == 1:
        copy.pop(str(head), None)
    elif isinstance(copy.get(str(head)), dict):
        copy[str(head)] = _without(copy[str(head)], path[1:])
    elif isinstance(copy.get(str(head)), list) and isinstance(path[1], int):
        items = list(copy[str(head)])
        item = items[path[1]]
        if len(path) > 2 and isinstance(item, dict):
            items[path[1]] = _without(item, path[2:])
        copy[str(head)] = items
    return copy


def _blank(error: Any) -> bool:
    """Whether an error is on an empty string standing for an absent value."""
    value = error.get("input")
    if value != "" or not error["loc"] or error["type"] == "list_type":
        return False
    if type(value) is str:
        return True
    # Emptied of U+0000: absent text (an id, a currency code), but no date.
    return str(error["type"]).startswith("string_") and error["loc"][-1] not in DATE_FIELDS


def check(model: type[BaseModel], raw: Any) -> tuple[Any, list[Issue]]:
    """``raw`` validated as ``model``: the instance, or None and the issues found.

    An empty string is an absent value for anything but a list (``"date": ""`` is no date):
    a record failing only on those is validated again without them. A string emptied of
    U+0000 is absent text, but the wrong type anywhere else.
    """
    validate = model.__pydantic_validator__.validate_python
    try:
        return validate(raw), []
    except ValidationError as failure:
        errors = failure.errors(include_url=False)
    blanks = [error["loc"] for error in errors if _blank(error)]
    if blanks and isinstance(raw, dict):
        for loc in blanks:
            raw = _without(raw, loc)
        try:
            return validate(raw), []
        except ValidationError as failure:
            errors = failure.errors(include_url=False)
    issues: list[Issue] = []
    for error in errors:
        issue = translate(error)
        if issue not in issues:
            issues.append(issue)
    return None, issues
