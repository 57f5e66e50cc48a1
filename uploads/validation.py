"""Validation of uploads against Plaid's shapes (DESIGN §6). Pure: bytes in, records out.

``parse_upload`` recognises JSON or CSV by content, checks every record, and returns the
normalised records ready to ingest, or raises ``UploadRejected`` with every error found (the
first ``max_errors`` listed, all counted). Each record is checked by its Pydantic model
(``uploads.plaid.models``), then by the rules across records (``uploads.plaid.rules``); a CSV
(``uploads.plaid.csvfile``) goes through the same. Locators follow the file:
``transactions.17.date``, ``liabilities.credit.0.aprs.1.apr_type``; in a CSV
``transactions.<data row>.<column>`` with the file's line number in the message. Unknown
fields are ignored.

``read_validated`` reads a file that ``parse_upload`` has already accepted, byte for byte,
into the same records without checking it again, where it can (a transactions CSV); the
upload task uses it when the stored file's digest is the one validated at upload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from uploads.limits import ID_MAX_LENGTH
from uploads.plaid.csvfile import parse_csv, read_validated_transactions
from uploads.plaid.errors import (
    Emptied,
    ErrorLog,
    LoneSurrogate,
    UploadError,
    UploadRejected,
    reject,
)
from uploads.plaid.models import MAX_MONEY, NUMBER_QUANTUM
from uploads.plaid.records import ParsedUpload
from uploads.plaid.rules import Document

__all__ = [
    "ID_MAX_LENGTH",
    "JSON_KEYS",
    "MAX_MONEY",
    "NUMBER_QUANTUM",
    "ParsedUpload",
    "UploadError",
    "UploadRejected",
    "decode",
    "detect_format",
    "parse_upload",
    "read_validated",
]

JSON_KEYS = ("accounts", "transactions", "added", "modified", "removed", "liabilities")
# PostgreSQL's text cannot hold U+0000, and Plaid's text never carries it: it is removed from
# every string. A lone surrogate (a JSON escape such as "\ud800") is no character at all: it
# cannot be encoded for the database, so it is reported where a field reads it. Decoded UTF-8
# holds neither (a raw NUL byte is refused as binary, and UTF-8 cannot encode a surrogate);
# only a JSON escape brings one in, so most files skip looking for them.
_ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: str) -> Any:
    if _SURROGATE.search(value):
        return LoneSurrogate(value)
    cleaned = value.replace("\x00", "")
    return Emptied() if value and not cleaned else cleaned


def _clean_strings(data: Any) -> None:
    """Every string value of ``data`` without U+0000, or a LoneSurrogate (keys are left)."""
    stack = [data]
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in pairs:
            if isinstance(value, str):
                node[key] = _clean(value)
            elif isinstance(value, dict | list):
                stack.append(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse_json(text: str) -> dict[str, Any]:
    try:
        # Numbers as Decimal, integers too: a column keeps 18 exact digits (Pydantic's JSON
        # parser reads binary floats), and Python's int() refuses more than 4,300 digits
        # where a number of any size must reach the model, which reports it where it stands.
        data = json.loads(
            text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise reject(
            "parse_error",
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}.",
        ) from None
    except RecursionError:
        raise reject("too_deep", "The JSON is nested too deeply.") from None
    except ValueError as error:  # NaN/Infinity
        raise reject("parse_error", f"Invalid JSON: {str(error)[:120]}.") from None
    if not isinstance(data, dict):
        raise reject("invalid", "The JSON must be an object (a Plaid response body).")
    if not any(key in data for key in JSON_KEYS):
        raise reject(
            "no_data",
            "No accounts, transactions, added, modified, removed or liabilities found.",
        )
    return data


def _list(data: dict[str, Any], key: str, path: str, errors: ErrorLog) -> Iterator[Any]:
    """The items of a list of the document, each let go once taken: the parsed file and the
    records made of it are never held in full together."""
    items = data.get(key)
    if items is None:
        return
    if not isinstance(items, list):
        errors.add(path, "invalid", "Must be a list.")
        return
    for index in range(len(items)):
        item, items[index] = items[index], None
        yield item


def _validate_json(data: dict[str, Any], known: set[str], errors: ErrorLog) -> ParsedUpload:
    document = Document(known, errors, "json")
    document.accounts(_list(data, "accounts", "accounts", errors))
    for key in ("transactions", "added", "modified"):
        document.transactions(key, _list(data, key, key, errors))
    document.removed(_list(data, "removed", "removed", errors))
    liabilities = data.get("liabilities")
    if liabilities is not None and not isinstance(liabilities, dict):
        errors.add(
            "liabilities", "invalid", "Must be an object with credit, mortgage and student lists."
        )
    elif liabilities is not None:
        for kind in ("credit", "mortgage", "student"):
            document.liabilities(kind, _list(liabilities, kind, f"liabilities.{kind}", errors))
    return document.parsed


def decode(content: bytes) -> str:
    """UTF-8 text of the file (a BOM tolerated), or UploadRejected (400 empty, 415 otherwise)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if not content.strip():
        raise reject("empty", "The file is empty.")
    if b"\x00" in content:
        raise reject("unsupported_media_type", "The file must be JSON or CSV text.", status=415)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise reject("unsupported_encoding", "The file must be UTF-8 text.", status=415) from None


def detect_format(text: str) -> str:
    """``json`` or ``csv`` by content, never by name; UploadRejected (415) otherwise."""
    head = text.lstrip()[:1]
    if head in ("{", "["):
        return "json"
    first_line = text.lstrip().split("\n", 1)[0]
    if "," in first_line:
        return "csv"
    raise reject("unsupported_media_type", "The file must be JSON or CSV.", status=415)


def parse_upload(
    content: bytes, *, known_account_ids: set[str], max_errors: int = 1000
) -> ParsedUpload:
    """Validate a whole upload. Raises UploadRejected listing every error found."""
    text = decode(content)
    if detect_format(text) == "csv":
        return parse_csv(text, known_account_ids, max_errors)
    data = _parse_json(text)
    if _ODD_ESCAPE.search(text):
        _clean_strings(data)
    errors = ErrorLog(max_errors)
    parsed = _validate_json(data, known_account_ids, errors)
    if errors.count:
        raise UploadRejected(errors.items, error_count=errors.count)
    return parsed


def read_validated(content: bytes) -> ParsedUpload | None:
    """The records ``parse_upload`` returned for ``content``, read without the models; None
    where there is no such reader (JSON, a CSV of accounts or liabilities, an unusual
    header), and the file is to go through ``parse_upload``.

    Only for bytes ``parse_upload`` has accepted, as their digest proves: nothing here
    checks a value.
    """
    try:
        text = decode(content)
        if detect_format(text) != "csv":
            return None
    except UploadRejected:
        return None
    return read_validated_transactions(text)
