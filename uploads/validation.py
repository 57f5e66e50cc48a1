"""Validation of uploads against Plaid's shapes (DESIGN §6). Pure: bytes in, records out.

``parse_upload`` recognises JSON or CSV by content, checks every record, and returns the
normalised records ready to ingest, or raises ``UploadRejected`` with every error found (the
first ``max_errors`` listed, all counted). Locators follow the file: ``transactions.17.date``,
``liabilities.credit.0.aprs.1.apr_type``; in a CSV ``transactions.<data row>.<column>`` with
the file's line number in the message. Unknown fields are ignored.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from uploads import plaid
from uploads.categories import from_legacy
from uploads.limits import ID_MAX_LENGTH, NUMBER_DIGITS, NUMBER_PLACES

# Every number we keep fits NUMERIC(18,4) (uploads.models.NUMBER_DIGITS / NUMBER_PLACES):
# rounded to 4 places, its size must stay below 10^14. A test reads both the columns and these.
NUMBER_QUANTUM = Decimal(1).scaleb(-NUMBER_PLACES)
MAX_MONEY = Decimal(10) ** (NUMBER_DIGITS - NUMBER_PLACES)
_MAX_ADJUSTED = NUMBER_DIGITS - NUMBER_PLACES - 1
# PostgreSQL's text cannot hold U+0000, and Plaid's text never carries it: it is removed from
# every string we keep. A lone surrogate (a JSON escape such as "\ud800") is no character at
# all: it cannot be encoded for the database, so it is reported instead.
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
# Decoded UTF-8 holds neither (a raw NUL byte is refused as binary, and UTF-8 cannot encode a
# surrogate); only a JSON escape can bring one in.
_ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")


def _odd_text(text: str) -> bool:
    """Whether a JSON text has an escape that decodes to U+0000 or a surrogate."""
    return _ODD_ESCAPE.search(text) is not None


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")
JSON_KEYS = ("accounts", "transactions", "added", "modified", "removed", "liabilities")


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


@dataclass
class ParsedUpload:
    file_format: str
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    liabilities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def account_ids(self) -> list[str]:
        return [account["account_id"] for account in self.accounts]


class _Errors:
    """Collects errors: all are counted, the first ``cap`` are kept.

    For a CSV, ``lines`` maps a data row to the file's line number, and ``prefix`` is the
    locator prefix of the rows (``transactions``): messages then end with ``(line N)``.
    """

    def __init__(
        self,
        cap: int,
        lines: dict[int, int] | None = None,
        prefix: str = "",
        *,
        odd_text: bool = False,
    ) -> None:
        self.cap = cap
        self.items: list[UploadError] = []
        self.count = 0
        self.lines = lines
        # Whether strings may hold U+0000 or a lone surrogate at all (see _odd_text): when
        # not, string() skips looking for them, which is most of a CSV's validation time.
        self.odd_text = odd_text
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


# --- field readers: each returns the cleaned value, or None after recording an error -----


def clean_text(value: str) -> str:
    """``value`` without U+0000 (see ``_NUL``)."""
    return value.replace(_NUL, "") if _NUL in value else value


def fit_number(number: Decimal) -> Decimal | None:
    """``number`` rounded as the column rounds it (4 places, halves away from zero), or None
    when it is not finite or does not fit. The size is read from the exponent, never by
    arithmetic: ``abs(Decimal("1e999999999"))`` overflows the decimal context."""
    if not number.is_finite() or number.adjusted() > _MAX_ADJUSTED:
        return None
    if number.same_quantum(NUMBER_QUANTUM):
        return number  # already as the column holds it: no second object (see _as_number)
    rounded = number.quantize(NUMBER_QUANTUM, rounding=ROUND_HALF_UP)
    return rounded if rounded.adjusted() <= _MAX_ADJUSTED else None


class _Reader:
    def __init__(self, obj: dict[str, Any], path: str, errors: _Errors) -> None:
        self.obj = obj
        self.path = path
        self.errors = errors
        self.ok = True

    def fail(self, key: str, code: str, detail: str) -> None:
        self.ok = False
        self.errors.add(f"{self.path}.{key}", code, detail)

    def _present(self, key: str, required: bool) -> bool:
        value = self.obj.get(key)
        if value is None or value == "":
            if required:
                self.fail(key, "required", "This field is required.")
            return False
        return True

    def string(self, key: str, *, required: bool = False, max_length: int | None = None) -> str:
        """Text as sent, less any U+0000. ``max_length`` only where a column needs one (ids
        in a unique index, ISO codes); free text has no limit (Plaid sets none)."""
        if not self._present(key, required):
            return ""
        value = self.obj[key]
        if not isinstance(value, str):
            self.fail(key, "invalid", "Must be a string.")
            return ""
        if self.errors.odd_text:
            value = clean_text(value)
            if _SURROGATE.search(value):
                self.fail(key, "invalid", "Must be valid Unicode text (it holds a lone surrogate).")
                return ""
        if required and not value:
            self.fail(key, "required", "This field is required.")
            return ""
        if max_length is not None and len(value) > max_length:
            self.fail(key, "max_length", f"Must be at most {max_length} characters.")
            return ""
        return value

    def number(self, key: str, *, required: bool = False) -> Decimal | None:
        if not self._present(key, required):
            return None
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(key, "invalid", "Must be a number.")
            return None
        number = fit_number(Decimal(value))
        if number is None:
            self.fail(key, "out_of_range", "Must be a finite number below 10^14 in size.")
        return number

    def boolean(self, key: str) -> bool | None:
        if not self._present(key, False):
            return None
        value = self.obj[key]
        if not isinstance(value, bool):
            self.fail(key, "invalid", "Must be true, false or null.")
            return None
        return value

    def day(self, key: str, *, required: bool = False) -> date | None:
        if not self._present(key, required):
            return None
        value = self.obj[key]
        if isinstance(value, str) and _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, "invalid", "Must be a date in ISO 8601 form (YYYY-MM-DD).")
        return None

    def choice(
        self, key: str, allowed: frozenset[Any], what: str, *, required: bool = False
    ) -> str:
        if not self._present(key, required):
            return ""
        value = self.obj[key]
        if value not in allowed:
            self.fail(key, "invalid_choice", f"{json.dumps(value)[:80]} is not a valid {what}.")
            return ""
        return str(value)

    def mapping(self, key: str, *, required: bool = False) -> dict[str, Any] | None:
        if not self._present(key, required):
            return None
        value = self.obj[key]
        if not isinstance(value, dict):
            self.fail(key, "invalid", "Must be an object.")
            return None
        return value

    def sub(self, key: str, value: dict[str, Any]) -> _Reader:
        reader = _Reader(value, f"{self.path}.{key}", self.errors)
        return reader

    def currency(self) -> tuple[str, str]:
        iso = self.string("iso_currency_code", max_length=3)
        unofficial = self.string("unofficial_currency_code")
        if iso and not _ISO_CURRENCY.match(iso):
            self.fail("iso_currency_code", "invalid", "Must be a three-letter ISO 4217 code.")
        if not iso and not unofficial and self.ok:
            self.fail(
                "iso_currency_code",
                "required",
                "One of iso_currency_code or unofficial_currency_code is required.",
            )
        return iso, unofficial


def _list(data: dict[str, Any], key: str, path: str, errors: _Errors) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "invalid", "Must be a list.")
        return []
    return value


# A CSV row already reported as malformed: keeps row numbers aligned, reports nothing more.
_SKIP: Any = object()


def _object(item: Any, path: str, errors: _Errors) -> dict[str, Any] | None:
    if item is _SKIP:
        return None
    if not isinstance(item, dict):
        errors.add(path, "invalid", "Must be an object.")
        return None
    return item


# --- records -----------------------------------------------------------------------------


def _account(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any] | None:
    reader = _Reader(item, path, errors)
    account_id = reader.string("account_id", required=True, max_length=ID_MAX_LENGTH)
    account_type = reader.choice("type", plaid.account_types(), "account type", required=True)
    subtype = item.get("subtype")
    if (
        account_type
        and subtype is not None
        and subtype not in plaid.account_subtypes()[account_type]
    ):
        reader.fail(
            "subtype",
            "invalid_choice",
            f"{json.dumps(subtype)[:80]} is not a valid subtype for a {account_type} account.",
        )
    balances = reader.mapping("balances", required=True)
    record: dict[str, Any] = {}
    if balances is not None:
        money = reader.sub("balances", balances)
        record = {
            "current": money.number("current"),
            "available": money.number("available"),
            "limit": money.number("limit"),
        }
        iso, unofficial = money.currency()
        record.update(iso_currency_code=iso, unofficial_currency_code=unofficial)
        reader.ok = reader.ok and money.ok
    record.update(
        account_id=account_id,
        type=account_type,
        subtype=subtype if isinstance(subtype, str) else "",
        name=reader.string("name"),
        official_name=reader.string("official_name"),
        mask=reader.string("mask"),
    )
    return record if reader.ok else None


def _known_account(reader: _Reader, known: set[str], *, required: bool = True) -> str:
    """The record's ``account_id``, reported when no valid upload declared it. Where Plaid
    makes it nullable (``required=False``) a missing id is "" and not an error."""
    account_id = reader.string("account_id", required=required, max_length=ID_MAX_LENGTH)
    if account_id and account_id not in known:
        reader.fail(
            "account_id",
            "unknown_account",
            "Unknown account: not in this upload nor in an earlier valid upload.",
        )
    return account_id


def _transaction(
    item: dict[str, Any], path: str, errors: _Errors, known: set[str]
) -> dict[str, Any] | None:
    reader = _Reader(item, path, errors)
    account_id = _known_account(reader, known)
    record = {
        "transaction_id": reader.string("transaction_id", required=True, max_length=ID_MAX_LENGTH),
        "account_id": account_id,
        "date": reader.day("date", required=True),
        "authorized_date": reader.day("authorized_date"),
        "amount": reader.number("amount", required=True),
        # Both may be empty (transfers, checks): the engine then has no merchant to group by.
        "name": reader.string("name"),
        "merchant_name": reader.string("merchant_name"),
        "payment_channel": reader.choice(
            "payment_channel", plaid.values("payment_channel"), "payment channel"
        ),
        "pending": bool(reader.boolean("pending")),
    }
    iso, unofficial = reader.currency()
    record.update(iso_currency_code=iso, unofficial_currency_code=unofficial)
    amount = record["amount"]
    record.update(_category(reader, item, amount if isinstance(amount, Decimal) else None))
    return record if reader.ok else None


def _category(reader: _Reader, item: dict[str, Any], amount: Decimal | None) -> dict[str, str]:
    """``pfc_primary``, ``pfc_detailed`` and ``category_source`` of a transaction.

    Plaid's ``personal_finance_category`` when it names a primary (``pfc``; a primary outside
    today's list is kept as sent: Plaid adds primaries, and the engine reads an unknown one
    as uncategorised), else the legacy ``category`` list mapped to PFC (``legacy``), else
    uncategorised (``none``, empty primary).
    """
    category = item.get("personal_finance_category")
    if type(category) is dict and not reader.errors.odd_text:
        # The common case, read directly: this runs once per transaction of a 10 MB file.
        primary, detailed = category.get("primary"), category.get("detailed")
        if type(primary) is str and primary and (detailed is None or type(detailed) is str):
            return {
                "pfc_primary": primary,
                "pfc_detailed": detailed or "",
                "category_source": "pfc",
            }
    category = reader.mapping("personal_finance_category")
    if category is not None:
        pfc = reader.sub("personal_finance_category", category)
        primary = pfc.string("primary")
        detailed = pfc.string("detailed")
        reader.ok = reader.ok and pfc.ok
        if primary:
            return {"pfc_primary": primary, "pfc_detailed": detailed, "category_source": "pfc"}
    legacy = item.get("category")
    if legacy is not None and not (
        isinstance(legacy, list) and all(isinstance(level, str) for level in legacy)
    ):
        reader.fail("category", "invalid", "Must be a list of strings or null.")
        legacy = None
    mapped = from_legacy(legacy, amount) if legacy else None
    if mapped is not None:
        return {"pfc_primary": mapped[0], "pfc_detailed": mapped[1], "category_source": "legacy"}
    return {"pfc_primary": "", "pfc_detailed": "", "category_source": "none"}


_CREDIT_MONEY = ("last_payment_amount", "last_statement_balance", "minimum_payment_amount")
_CREDIT_DATES = ("last_payment_date", "last_statement_issue_date", "next_payment_due_date")
_MORTGAGE_MONEY = (
    "current_late_fee",
    "escrow_balance",
    "last_payment_amount",
    "next_monthly_payment",
    "origination_principal_amount",
    "past_due_amount",
    "ytd_interest_paid",
    "ytd_principal_paid",
)
_MORTGAGE_DATES = (
    "last_payment_date",
    "maturity_date",
    "next_payment_due_date",
    "origination_date",
)
_STUDENT_MONEY = (
    "last_payment_amount",
    "last_statement_balance",
    "minimum_payment_amount",
    "origination_principal_amount",
    "outstanding_interest_amount",
    "ytd_interest_paid",
    "ytd_principal_paid",
)
_STUDENT_DATES = (
    "expected_payoff_date",
    "last_payment_date",
    "last_statement_issue_date",
    "next_payment_due_date",
    "origination_date",
)
_LIABILITY_ACCOUNT_TYPE = {"credit": "credit", "mortgage": "loan", "student": "loan"}


def _liability(
    kind: str,
    item: dict[str, Any],
    path: str,
    errors: _Errors,
    known: set[str],
    types: dict[str, str],
) -> dict[str, Any] | None:
    reader = _Reader(item, path, errors)
    # Plaid makes a credit card's and a student loan's account_id nullable; such a liability
    # is valid but cannot be tied to an account: it is counted and left out (see ingestion).
    account_id = _known_account(reader, known, required=kind == "mortgage")
    if (
        account_id in known
        and account_id in types
        and types[account_id] != _LIABILITY_ACCOUNT_TYPE[kind]
    ):
        reader.fail(
            "account_id",
            "invalid",
            f"A {kind} liability needs a {_LIABILITY_ACCOUNT_TYPE[kind]} account.",
        )
    record: dict[str, Any] = {"kind": kind, "account_id": account_id, "is_overdue": None}
    details: dict[str, Any] = {}
    if kind == "credit":
        aprs = []
        raw_aprs = item.get("aprs")
        if not isinstance(raw_aprs, list):
            reader.fail(
                "aprs", "required" if raw_aprs is None else "invalid", "Must be a list of APRs."
            )
        else:
            for index, raw in enumerate(raw_aprs):
                apr = _object(raw, f"{path}.aprs.{index}", errors)
                if apr is None:
                    reader.ok = False
                    continue
                apr_reader = _Reader(apr, f"{path}.aprs.{index}", errors)
                cleaned = {
                    "apr_percentage": apr_reader.number("apr_percentage", required=True),
                    "apr_type": apr_reader.choice(
                        "apr_type", plaid.values("apr_type"), "APR type", required=True
                    ),
                    "balance_subject_to_apr": apr_reader.number("balance_subject_to_apr"),
                    "interest_charge_amount": apr_reader.number("interest_charge_amount"),
                }
                reader.ok = reader.ok and apr_reader.ok
                aprs.append(cleaned)
        details["aprs"] = aprs
        record["is_overdue"] = reader.boolean("is_overdue")
        for name in _CREDIT_MONEY:
            details[name] = reader.number(name)
        for name in _CREDIT_DATES:
            details[name] = reader.day(name)
        purchase = [a["apr_percentage"] for a in aprs if a["apr_type"] == "purchase_apr"]
        record["interest_rate_percentage"] = purchase[0] if purchase else None
    elif kind == "mortgage":
        rate = reader.mapping("interest_rate")
        percentage = None
        if rate is not None:
            rate_reader = reader.sub("interest_rate", rate)
            percentage = rate_reader.number("percentage")
            details["interest_rate_type"] = rate_reader.string("type")
            reader.ok = reader.ok and rate_reader.ok
        record["interest_rate_percentage"] = percentage
        for name in _MORTGAGE_MONEY:
            details[name] = reader.number(name)
        for name in _MORTGAGE_DATES:
            details[name] = reader.day(name)
        details["has_pmi"] = reader.boolean("has_pmi")
        details["has_prepayment_penalty"] = reader.boolean("has_prepayment_penalty")
        details["loan_type_description"] = reader.string("loan_type_description")
        details["loan_term"] = reader.string("loan_term")
        # Mortgages report no minimum payment or overdue flag; the monthly payment is the minimum.
        details["minimum_payment_amount"] = details["next_monthly_payment"]
        past_due = details["past_due_amount"]
        record["is_overdue"] = bool(past_due and past_due > 0) if past_due is not None else None
    else:
        record["interest_rate_percentage"] = reader.number(
            "interest_rate_percentage", required=True
        )
        record["is_overdue"] = reader.boolean("is_overdue")
        for name in _STUDENT_MONEY:
            details[name] = reader.number(name)
        for name in _STUDENT_DATES:
            details[name] = reader.day(name)
        status = reader.mapping("loan_status")
        if status is not None:
            status_reader = reader.sub("loan_status", status)
            details["loan_status"] = status_reader.choice(
                "type", plaid.values("student_loan_status_type"), "loan status"
            )
            reader.ok = reader.ok and status_reader.ok
        plan = reader.mapping("repayment_plan")
        if plan is not None:
            plan_reader = reader.sub("repayment_plan", plan)
            details["repayment_plan"] = plan_reader.choice(
                "type", plaid.values("student_repayment_plan_type"), "repayment plan"
            )
            reader.ok = reader.ok and plan_reader.ok
        details["loan_name"] = reader.string("loan_name")
    record["minimum_payment_amount"] = details.get("minimum_payment_amount")
    record["last_payment_amount"] = details.get("last_payment_amount")
    record["last_statement_balance"] = details.get("last_statement_balance")
    record["next_payment_due_date"] = details.get("next_payment_due_date")
    record["details"] = _jsonable(details)
    return record if reader.ok else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


# --- whole documents ---------------------------------------------------------------------


def _validate_document(
    data: dict[str, Any],
    known: set[str],
    errors: _Errors,
    file_format: str,
    *,
    credit_rows: bool = False,
) -> ParsedUpload:
    """Validate a Plaid-shaped document. ``credit_rows``: a credit CSV, where one account has
    one row per APR (merged afterwards), so a repeated account is not a duplicate."""
    parsed = ParsedUpload(file_format=file_format)
    account_types: dict[str, str] = {}
    seen_accounts: set[str] = set()
    for index, raw in enumerate(_list(data, "accounts", "accounts", errors)):
        path = f"accounts.{index}"
        item = _object(raw, path, errors)
        record = _account(item, path, errors) if item is not None else None
        if record is None:
            # A declared id still counts as known, so its transactions are not flagged twice.
            if item is not None and isinstance(item.get("account_id"), str):
                seen_accounts.add(item["account_id"])
            continue
        if record["account_id"] in seen_accounts:
            errors.add(f"{path}.account_id", "duplicate", "This account appears twice in the file.")
            continue
        seen_accounts.add(record["account_id"])
        account_types[record["account_id"]] = record["type"]
        parsed.accounts.append(record)
    known_here = known | seen_accounts

    transactions: dict[str, dict[str, Any]] = {}
    for key in ("transactions", "added", "modified"):
        seen: set[str] = set()
        for index, raw in enumerate(_list(data, key, key, errors)):
            path = f"{key}.{index}"
            item = _object(raw, path, errors)
            record = _transaction(item, path, errors, known_here) if item is not None else None
            if record is None:
                continue
            if record["transaction_id"] in seen:
                errors.add(
                    f"{path}.transaction_id",
                    "duplicate",
                    "This transaction appears twice in the list.",
                )
                continue
            seen.add(record["transaction_id"])
            transactions[record["transaction_id"]] = record  # a later list (modified) wins
    parsed.transactions = list(transactions.values())

    for index, raw in enumerate(_list(data, "removed", "removed", errors)):
        path = f"removed.{index}"
        item = _object(raw, path, errors)
        if item is None:
            continue
        transaction_id = _Reader(item, path, errors).string(
            "transaction_id", required=True, max_length=ID_MAX_LENGTH
        )
        if transaction_id:
            parsed.removed.append(transaction_id)

    liabilities = data.get("liabilities")
    if liabilities is not None:
        if not isinstance(liabilities, dict):
            errors.add(
                "liabilities",
                "invalid",
                "Must be an object with credit, mortgage and student lists.",
            )
        else:
            for kind in ("credit", "mortgage", "student"):
                seen_liabilities: set[str] = set()
                for index, raw in enumerate(
                    _list(liabilities, kind, f"liabilities.{kind}", errors)
                ):
                    path = f"liabilities.{kind}.{index}"
                    item = _object(raw, path, errors)
                    record = (
                        _liability(kind, item, path, errors, known_here, account_types)
                        if item is not None
                        else None
                    )
                    if record is None:
                        continue
                    if not record["account_id"]:
                        parsed.liabilities.append(record)  # counted, never stored
                        continue
                    if record["account_id"] in seen_liabilities and not (
                        credit_rows and kind == "credit"
                    ):
                        errors.add(
                            f"{path}.account_id",
                            "duplicate",
                            f"Two {kind} liabilities for one account.",
                        )
                        continue
                    seen_liabilities.add(record["account_id"])
                    parsed.liabilities.append(record)
    return parsed


def _reject(code: str, detail: str, *, status: int = 400, attr: str = "file") -> UploadRejected:
    return UploadRejected([UploadError(code, detail, attr)], status=status)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse_json(text: str) -> dict[str, Any]:
    try:
        # Integers as Decimal too: Python's int() refuses more than 4,300 digits, and a number
        # of any size must reach the validator, which reports it where it stands.
        data = json.loads(
            text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise _reject(
            "parse_error",
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}.",
        ) from None
    except RecursionError:
        raise _reject("too_deep", "The JSON is nested too deeply.") from None
    except ValueError as error:  # NaN/Infinity
        raise _reject("parse_error", f"Invalid JSON: {str(error)[:120]}.") from None
    if not isinstance(data, dict):
        raise _reject("invalid", "The JSON must be an object (a Plaid response body).")
    if not any(key in data for key in JSON_KEYS):
        raise _reject(
            "no_data",
            "No accounts, transactions, added, modified, removed or liabilities found.",
        )
    return data


# --- CSV ---------------------------------------------------------------------------------

_CSV_NUMBERS = {
    "amount",
    "balances.current",
    "balances.available",
    "balances.limit",
    "apr_percentage",
    "balance_subject_to_apr",
    "interest_charge_amount",
    "interest_rate_percentage",
    "interest_rate.percentage",
    *_CREDIT_MONEY,
    *_MORTGAGE_MONEY,
    *_STUDENT_MONEY,
}
_CSV_BOOLEANS = {"pending", "is_overdue", "has_pmi", "has_prepayment_penalty"}
_APR_COLUMNS = ("apr_percentage", "apr_type", "balance_subject_to_apr", "interest_charge_amount")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _csv_kind(header: list[str]) -> tuple[str, str, set[str]]:
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
    raise _reject(
        "unknown_csv",
        "The CSV header names no known record kind (transactions, accounts or liabilities).",
    )


def _as_number(value: str) -> Any:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value  # left as text: the validator reports "Must be a number."
    # Rounded here as the column holds it, so the validator keeps this very object: a 10 MB
    # CSV has 70,000 amounts, and a second Decimal of each was 7 MB at the parse's peak.
    # What does not fit is left as read, for the validator to report.
    fitted = fit_number(number)
    return number if fitted is None else fitted


def _as_boolean(value: str) -> Any:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value


def _as_text(value: str) -> Any:
    return value


def _row_builder(header: list[str]) -> Any:
    """A function turning one CSV row into a nested record, its per-column work done once."""
    plan = []
    for column in header:
        convert = (
            _as_number
            if column in _CSV_NUMBERS
            else _as_boolean
            if column in _CSV_BOOLEANS
            else _as_text
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


def _parse_csv(text: str, known: set[str], errors_cap: int) -> ParsedUpload:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except (StopIteration, csv.Error):
        raise _reject("parse_error", "The CSV has no header line.") from None
    key, prefix, required = _csv_kind(header)
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
    build = _row_builder(header)
    lines: dict[int, int] = {}
    records: list[dict[str, Any]] = []
    errors = _Errors(errors_cap, lines, prefix)
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            row_index = len(records)
            lines[row_index] = reader.line_num
            if len(values) != len(header):
                errors.add(
                    f"{prefix}.{row_index}",
                    "invalid",
                    f"Expected {len(header)} columns, found {len(values)}.",
                )
                records.append(_SKIP)
                continue
            records.append(build(values))
    except csv.Error as error:
        raise _reject("parse_error", f"Invalid CSV near line {reader.line_num}: {error}.") from None

    if key == "credit":
        # One row per APR: the APR columns become a one-item ``aprs`` list.
        for record in records:
            if record is not _SKIP:
                record["aprs"] = [{name: record.pop(name, None) for name in _APR_COLUMNS}]
    document: dict[str, Any]
    if key in ("credit", "mortgage", "student"):
        document = {"liabilities": {key: records}}
    else:
        document = {key: records}
    parsed = _validate_document(document, known, errors, "csv", credit_rows=key == "credit")
    if key == "credit":
        # APR errors name the CSV column, not the list item the row became.
        for item in errors.items:
            if item.attr:
                item.attr = re.sub(r"^(liabilities\.credit\.\d+)\.aprs\.0\.", r"\1.", item.attr)
        parsed.liabilities = _merge_credit_rows(parsed.liabilities)
    # Malformed rows were found while reading, the rest while validating: report in file order.
    errors.items.sort(key=lambda item: _row_of(item.attr, prefix))
    if errors.count:
        raise UploadRejected(errors.items, error_count=errors.count)
    return parsed


def _row_of(attr: str | None, prefix: str) -> int:
    match = re.match(rf"^{re.escape(prefix)}\.(\d+)", attr or "")
    return int(match.group(1)) if match else -1


def _merge_credit_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    unattached: list[dict[str, Any]] = []
    for row in rows:
        if not row["account_id"]:
            unattached.append(row)  # no account to merge its APRs by: one row, one liability
            continue
        existing = merged.get(row["account_id"])
        if existing is None:
            merged[row["account_id"]] = row
        else:
            existing["details"]["aprs"].extend(row["details"]["aprs"])
            if existing["interest_rate_percentage"] is None:
                existing["interest_rate_percentage"] = row["interest_rate_percentage"]
    return [*merged.values(), *unattached]


# --- entry point -------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """UTF-8 text of the file (a BOM tolerated), or UploadRejected (400 empty, 415 otherwise)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if not content.strip():
        raise _reject("empty", "The file is empty.")
    if b"\x00" in content:
        raise _reject("unsupported_media_type", "The file must be JSON or CSV text.", status=415)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject("unsupported_encoding", "The file must be UTF-8 text.", status=415) from None


def detect_format(text: str) -> str:
    """``json`` or ``csv`` by content, never by name; UploadRejected (415) otherwise."""
    head = text.lstrip()[:1]
    if head in ("{", "["):
        return "json"
    first_line = text.lstrip().split("\n", 1)[0]
    if "," in first_line:
        return "csv"
    raise _reject("unsupported_media_type", "The file must be JSON or CSV.", status=415)


def parse_upload(
    content: bytes, *, known_account_ids: set[str], max_errors: int = 1000
) -> ParsedUpload:
    """Validate a whole upload. Raises UploadRejected listing every error found."""
    text = decode(content)
    file_format = detect_format(text)
    if file_format == "csv":
        return _parse_csv(text, known_account_ids, max_errors)
    data = _parse_json(text)
    errors = _Errors(max_errors, odd_text=_odd_text(text))
    parsed = _validate_document(data, known_account_ids, errors, "json")
    if errors.count:
        raise UploadRejected(errors.items, error_count=errors.count)
    return parsed
