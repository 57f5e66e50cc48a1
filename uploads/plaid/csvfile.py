"""CSV uploads: one kind of record per file, the header naming Plaid's fields (nested ones
dotted: ``balances.current``). Each row becomes the record Plaid would send, numbers as
``Decimal`` and flags as ``bool``, and goes through the same models and rules as JSON, as it
is read. Locators are ``<kind>.<data row>.<column>``, messages end with ``(line N)``. A column
that is also the group of dotted ones (``x`` and ``x.y``) is refused.

``read_validated_transactions`` reads a transactions CSV that ``parse_csv`` has already
accepted byte for byte (the caller proves it by the file's digest) straight into the records
``parse_csv`` returns for it, without the models: what the upload task does with the stored
file. It reads only headers it fully understands and says None to anything else, which the
caller then validates in full; a test holds it to ``parse_csv``'s records.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from uploads.plaid import models
from uploads.plaid.errors import ErrorLog, UploadError, UploadRejected, reject
from uploads.plaid.records import ParsedUpload, merge_credit_rows, money
from uploads.plaid.rules import SKIP, Document


def _number_columns() -> set[str]:
    """The columns read as numbers: every ``Decimal`` field of the records a CSV holds."""
    columns = set()
    for model, prefix in (
        (models.Transaction, ""),
        (models.Location, "location."),
        (models.Account, ""),
        (models.Balances, "balances."),
        (models.Apr, ""),
        (models.CreditLiability, ""),
        (models.MortgageLiability, ""),
        (models.InterestRate, "interest_rate."),
        (models.StudentLiability, ""),
    ):
        for name, info in model.model_fields.items():
            if "Decimal" in str(info.annotation):
                columns.add(prefix + name)
    return columns


_NUMBERS = _number_columns()
_BOOLEANS = {"pending", "is_overdue", "has_pmi", "has_prepayment_penalty"}
_APR_COLUMNS = ("apr_percentage", "apr_type", "balance_subject_to_apr", "interest_charge_amount")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _kind(header: list[str]) -> tuple[str, str, set[str]]:
    """(document key, locator prefix, required columns) for a CSV header."""
    columns = set(header)
    if "transaction_id" in columns:
        return "transactions", "transactions", {"transaction_id", "account_id", "date", "amount"}
    if "apr_type" in columns:
        return "credit", "liabilities.credit", {"account_id", "apr_percentage", "apr_type"}
    if "interest_rate.percentage" in columns:
        return "mortgage", "liabilities.mortgage", {"account_id"}
    if "interest_rate_percentage" in columns:
        return "student", "liabilities.student", {"account_id", "interest_rate_percentage"}
    if "type" in columns and "account_id" in columns:
        return "accounts", "accounts", {"account_id", "type"}
    raise reject(
        "unknown_csv",
        "The CSV header names no known record kind (transactions, accounts or liabilities).",
    )


def _as_number(value: str) -> Any:
    try:
        return Decimal(value)
    except InvalidOperation:
        return value  # left as text: the model reports "Must be a number."


def _as_boolean(value: str) -> Any:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value


def _as_text(value: str) -> Any:
    return value


def _row_builder(header: list[str]) -> Callable[[list[str]], dict[str, Any]]:
    """A function turning one CSV row into a nested record, its per-column work done once."""
    plan = []
    for column in header:
        convert = (
            _as_number if column in _NUMBERS else _as_boolean if column in _BOOLEANS else _as_text
        )
        *parents, leaf = column.split(".")
        plan.append((tuple(parents), leaf, convert))

    def build(values: list[str]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for (parents, leaf, convert), raw in zip(plan, values, strict=True):
            value = raw.strip()
            target = record
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = convert(value) if value else None
        return record

    return build


def parse_csv(text: str, known: set[str], errors_cap: int) -> ParsedUpload:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except (StopIteration, csv.Error):
        raise reject("parse_error", "The CSV has no header line.") from None
    key, prefix, required = _kind(header)
    missing = sorted(required - set(header))
    if missing:
        raise UploadRejected(
            [
                UploadError(
                    "missing_column", f"Missing column {name!r} (line 1).", f"{prefix}.{name}"
                )
                for name in missing
            ]
        )
    groups = {
        column.rsplit(".", n)[0] for column in header for n in range(1, column.count(".") + 1)
    }
    both = sorted(groups.intersection(header))
    if both:
        # ``x`` and ``x.y``: no record has both a value and fields at ``x``.
        raise UploadRejected(
            [
                UploadError(
                    "invalid",
                    f"Column {name!r} is also the group of other columns (line 1).",
                    f"{prefix}.{name}",
                )
                for name in both
            ]
        )
    build = _row_builder(header)
    lines: dict[int, int] = {}
    errors = ErrorLog(errors_cap, lines, prefix)

    def rows() -> Iterator[Any]:
        """The data rows as records, as they are read; a malformed one reported, as SKIP."""
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            row_index = len(lines)
            lines[row_index] = reader.line_num
            if len(values) != len(header):
                errors.add(
                    f"{prefix}.{row_index}",
                    "invalid",
                    f"Expected {len(header)} columns, found {len(values)}.",
                )
                yield SKIP
                continue
            record = build(values)
            if key == "credit":
                # One row per APR: the APR columns become a one-item ``aprs`` list.
                record["aprs"] = [{name: record.pop(name, None) for name in _APR_COLUMNS}]
            yield record

    document = Document(known, errors, "csv", credit_rows=key == "credit")
    try:
        if key == "accounts":
            document.accounts(rows())
        elif key == "transactions":
            document.transactions(key, rows())
        else:
            document.liabilities(key, rows())
    except csv.Error as error:
        raise reject("parse_error", f"Invalid CSV near line {reader.line_num}: {error}.") from None
    parsed = document.parsed
    if key == "credit":
        # APR errors name the CSV column, not the list item the row became.
        for item in errors.items:
            if item.attr:
                item.attr = re.sub(r"^(liabilities\.credit\.\d+)\.aprs\.0\.", r"\1.", item.attr)
        parsed.liabilities = merge_credit_rows(parsed.liabilities)
    if errors.count:
        raise UploadRejected(errors.items, error_count=errors.count)
    return parsed


# --- a transactions CSV already validated ----------------------------------------------------

# The columns ``read_validated_transactions`` reads: every field of ``models.Transaction`` that
# a transaction's record keeps. ``location`` is checked at validation and never kept, so its
# columns are passed over; any other column naming a field of the model (``category``, the
# category's other parts, a column twice) is left to ``parse_csv``.
_KEPT = (
    "account_id",
    "transaction_id",
    "date",
    "authorized_date",
    "amount",
    "name",
    "merchant_name",
    "payment_channel",
    "pending",
    "iso_currency_code",
    "unofficial_currency_code",
    "personal_finance_category.primary",
    "personal_finance_category.detailed",
)


def _columns(header: list[str]) -> dict[str, int] | None:
    """The position of each kept column in ``header``, or None for a header this reader
    leaves to ``parse_csv``."""
    if "transaction_id" not in header or len(set(header)) != len(header):
        return None
    for column in header:
        field = column.split(".", 1)[0]
        if field in models.Transaction.model_fields and column not in _KEPT and field != "location":
            return None
    return {column: header.index(column) for column in _KEPT if column in header}


def read_validated_transactions(text: str) -> ParsedUpload | None:
    """The records of a transactions CSV that ``parse_csv`` accepted, read without checking
    it again; None when the file is not one this reader knows (another kind, an unusual
    header, a row that could not have passed), to be validated in full instead.

    Only for text whose validation the caller has proved (the digest of the bytes validated):
    a value that would have failed the models is not noticed here.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except (StopIteration, csv.Error):
        return None
    at = _columns(header)
    if at is None:
        return None
    width = len(header)
    no_column = width  # an index past the row: a column the file lacks reads as blank
    (
        account,
        transaction,
        day,
        authorized,
        amount,
        name,
        merchant,
        channel,
        pending,
        iso,
        unofficial,
        primary,
        detailed,
    ) = (at.get(column, no_column) for column in _KEPT)
    records = []
    try:
        for row in reader:
            if len(row) != width:
                if any(value.strip() for value in row):
                    return None  # a malformed row: this file did not pass as it is
                continue
            values = [value.strip() for value in row]
            values.append("")
            if not any(values):
                continue
            category = values[primary]
            records.append(
                {
                    "transaction_id": values[transaction],
                    "account_id": values[account],
                    "date": date.fromisoformat(values[day]),
                    "authorized_date": (
                        date.fromisoformat(values[authorized]) if values[authorized] else None
                    ),
                    "amount": money(Decimal(values[amount])),
                    "name": values[name],
                    "merchant_name": values[merchant],
                    "payment_channel": values[channel],
                    "pending": values[pending].lower() in _TRUE,
                    "iso_currency_code": values[iso],
                    "unofficial_currency_code": values[unofficial],
                    "pfc_primary": category,
                    "pfc_detailed": values[detailed] if category else "",
                    "category_source": "pfc" if category else "none",
                }
            )
    except (csv.Error, ValueError, ArithmeticError):
        return None  # could not have passed validation: leave it to parse_csv
    return ParsedUpload(file_format="csv", transactions=records)
