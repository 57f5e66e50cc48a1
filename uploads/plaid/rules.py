"""The second pass over an upload: rules across records, and the records we keep.

Each record is checked by its model (``uploads.plaid.models``, first pass), then here:
an account referenced but absent (from this upload and from earlier valid ones), an id
twice in a list, a liability on the wrong kind of account, a subtype outside its type's
list, and exactly one currency code (reported once the fields read before it are fine).
What passes becomes the plain record ingestion writes (``ParsedUpload``): numbers rounded
to the column's 4 places, absent text ``""``, categories resolved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from uploads import plaid
from uploads.categories import from_legacy
from uploads.limits import ID_MAX_LENGTH
from uploads.plaid import models
from uploads.plaid.errors import ErrorLog, Issue, check

# A CSV row already reported as malformed: keeps row numbers aligned, reports nothing more.
SKIP: Any = object()


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


def money(number: Decimal | None) -> Decimal | None:
    """``number`` rounded as the column rounds it (4 places, halves away from zero); the
    model has checked it then fits."""
    if number is None:
        return None
    return number.quantize(models.NUMBER_QUANTUM, rounding=ROUND_HALF_UP)


def _order(model: type[BaseModel]) -> dict[str | int, int]:
    return {name: position for position, name in enumerate(model.model_fields)}


_RECORDS: list[type[BaseModel]] = [
    models.Account,
    models.Transaction,
    models.RemovedTransaction,
    *models.LIABILITY_MODELS.values(),
]
_ORDERS = {model: _order(model) for model in _RECORDS}
_LIABILITY_ACCOUNT_TYPE = {"credit": "credit", "mortgage": "loan", "student": "loan"}
_CURRENCY = "One of iso_currency_code or unofficial_currency_code is required."


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _id_of(raw: dict[str, Any]) -> str:
    """A record's ``account_id`` as far as rules across records go: a usable id, else ""."""
    value = raw.get("account_id")
    return value if isinstance(value, str) and len(value) <= ID_MAX_LENGTH else ""


def _currency(raw: dict[str, Any], issues: list[Issue], before: int, order: dict[Any, int]) -> None:
    """Exactly one currency code is Plaid's rule: neither is reported, when the fields read
    before the currency (``before`` in ``order``) are all fine."""
    if any(order.get(loc[0], -1) < before for loc, _, _ in issues if loc):
        return
    if _absent(raw.get("iso_currency_code")) and _absent(raw.get("unofficial_currency_code")):
        issues.append((("iso_currency_code",), "required", _CURRENCY))


class Document:
    """The second pass over one upload, list by list in the file's order; ``parsed`` holds
    what passes. ``credit_rows``: a credit CSV, where one account has one row per APR
    (merged afterwards), so a repeated account is not a duplicate."""

    def __init__(
        self, known: set[str], errors: ErrorLog, file_format: str, *, credit_rows: bool = False
    ) -> None:
        self.known = set(known)
        self.errors = errors
        self.credit_rows = credit_rows
        self.parsed = ParsedUpload(file_format=file_format)
        self._types: dict[str, str] = {}
        self._transactions: dict[str, dict[str, Any]] = {}

    def _report(self, path: str, issues: list[Issue], model: type[BaseModel]) -> None:
        order = _ORDERS[model]
        issues.sort(key=lambda issue: order.get(issue[0][0], -1) if issue[0] else -1)
        for loc, code, detail in issues:
            self.errors.add(path + "".join(f".{part}" for part in loc), code, detail)

    def _unknown(self, raw: dict[str, Any], issues: list[Issue]) -> str:
        account_id = _id_of(raw)
        if account_id and account_id not in self.known:
            issues.append(
                (
                    ("account_id",),
                    "unknown_account",
                    "Unknown account: not in this upload nor in an earlier valid upload.",
                )
            )
        return account_id

    def accounts(self, items: Iterable[Any], key: str = "accounts") -> None:
        seen: set[str] = set()
        subtypes = plaid.account_subtypes()
        for index, raw in enumerate(items):
            if raw is SKIP:
                continue
            path = f"{key}.{index}"
            account, issues = check(models.Account, raw)
            if isinstance(raw, dict):
                kind, subtype = raw.get("type"), raw.get("subtype")
                if (
                    kind in subtypes
                    and isinstance(subtype, str)
                    and subtype not in subtypes[kind]
                    and not any(loc == ("subtype",) for loc, _, _ in issues)
                ):
                    issues.append(
                        (
                            ("subtype",),
                            "invalid_choice",
                            f"{json.dumps(subtype)[:80]} is not a valid subtype"
                            f" for a {kind} account.",
                        )
                    )
                balances = raw.get("balances")
                if (
                    isinstance(balances, dict)
                    and not any(loc[:1] == ("balances",) for loc, _, _ in issues)
                    and _absent(balances.get("iso_currency_code"))
                    and _absent(balances.get("unofficial_currency_code"))
                ):
                    issues.append((("balances", "iso_currency_code"), "required", _CURRENCY))
            if account is None or issues:
                self._report(path, issues, models.Account)
                # A declared id still counts as known, so its transactions are not flagged twice.
                if isinstance(raw, dict) and isinstance(raw.get("account_id"), str):
                    seen.add(raw["account_id"])
                continue
            if account.account_id in seen:
                self.errors.add(
                    f"{path}.account_id", "duplicate", "This account appears twice in the file."
                )
                continue
            seen.add(account.account_id)
            self._types[account.account_id] = account.type
            balances = account.balances
            self.parsed.accounts.append(
                {
                    "current": money(balances.current),
                    "available": money(balances.available),
                    "limit": money(balances.limit),
                    "iso_currency_code": balances.iso_currency_code or "",
                    "unofficial_currency_code": balances.unofficial_currency_code or "",
                    "account_id": account.account_id,
                    "type": account.type,
                    "subtype": account.subtype or "",
                    "name": account.name or "",
                    "official_name": account.official_name or "",
                    "mask": account.mask or "",
                }
            )
        self.known |= seen

    def transactions(self, key: str, items: Iterable[Any]) -> None:
        seen: set[str] = set()
        order = _ORDERS[models.Transaction]
        currency_at = order["iso_currency_code"]
        validate = models.Transaction.__pydantic_validator__.validate_python
        for index, raw in enumerate(items):
            if raw is SKIP:
                continue
            try:
                transaction = validate(raw)
            except ValidationError:
                transaction = None
            if (
                transaction is None
                or transaction.account_id not in self.known
                or not (transaction.iso_currency_code or transaction.unofficial_currency_code)
            ):
                # Something to report (or blanks to drop): the model's errors, then the rules
                # on what was sent.
                transaction, issues = check(models.Transaction, raw)
                if isinstance(raw, dict):
                    self._unknown(raw, issues)
                    _currency(raw, issues, currency_at, order)
                if transaction is None or issues:
                    self._report(f"{key}.{index}", issues, models.Transaction)
                    continue
            if transaction.transaction_id in seen:
                self.errors.add(
                    f"{key}.{index}.transaction_id",
                    "duplicate",
                    "This transaction appears twice in the list.",
                )
                continue
            seen.add(transaction.transaction_id)
            # A later list (modified) wins.
            self._transactions[transaction.transaction_id] = _transaction(transaction)
        self.parsed.transactions = list(self._transactions.values())

    def removed(self, items: Iterable[Any]) -> None:
        for index, raw in enumerate(items):
            removed, issues = check(models.RemovedTransaction, raw)
            if removed is None:
                self._report(f"removed.{index}", issues, models.RemovedTransaction)
            else:
                self.parsed.removed.append(removed.transaction_id)

    def liabilities(self, kind: str, items: Iterable[Any]) -> None:
        model = models.LIABILITY_MODELS[kind]
        needed = _LIABILITY_ACCOUNT_TYPE[kind]
        seen: set[str] = set()
        for index, raw in enumerate(items):
            if raw is SKIP:
                continue
            path = f"liabilities.{kind}.{index}"
            liability, issues = check(model, raw)
            if isinstance(raw, dict):
                account_id = self._unknown(raw, issues)
                if self._types.get(account_id, needed) != needed:
                    detail = f"A {kind} liability needs a {needed} account."
                    issues.append((("account_id",), "invalid", detail))
            if liability is None or issues:
                self._report(path, issues, model)
                continue
            record = _LIABILITY_RECORDS[kind](liability)
            if not record["account_id"]:
                # Plaid makes a credit card's and a student loan's account_id nullable: such a
                # liability is valid but tied to no account: counted, never stored.
                self.parsed.liabilities.append(record)
                continue
            if record["account_id"] in seen and not (self.credit_rows and kind == "credit"):
                self.errors.add(
                    f"{path}.account_id", "duplicate", f"Two {kind} liabilities for one account."
                )
                continue
            seen.add(record["account_id"])
            self.parsed.liabilities.append(record)


def _transaction(transaction: models.Transaction) -> dict[str, Any]:
    amount = money(transaction.amount)
    record: dict[str, Any] = {
        "transaction_id": transaction.transaction_id,
        "account_id": transaction.account_id,
        "date": transaction.date,
        "authorized_date": transaction.authorized_date,
        "amount": amount,
        "name": transaction.name or "",
        "merchant_name": transaction.merchant_name or "",
        "payment_channel": transaction.payment_channel or "",
        "pending": bool(transaction.pending),
        "iso_currency_code": transaction.iso_currency_code or "",
        "unofficial_currency_code": transaction.unofficial_currency_code or "",
    }
    record.update(_category(transaction, amount))
    return record


def _category(transaction: models.Transaction, amount: Decimal | None) -> dict[str, str]:
    """``pfc_primary``, ``pfc_detailed`` and ``category_source`` of a transaction.

    Plaid's ``personal_finance_category`` when it names a primary (``pfc``; a primary outside
    today's list is kept as sent: Plaid adds primaries, and the engine reads an unknown one
    as uncategorised), else the legacy ``category`` list mapped to PFC (``legacy``), else
    uncategorised (``none``, empty primary).
    """
    category = transaction.personal_finance_category
    if category is not None and category.primary:
        return {
            "pfc_primary": category.primary,
            "pfc_detailed": category.detailed or "",
            "category_source": "pfc",
        }
    mapped = from_legacy(transaction.category, amount) if transaction.category else None
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


def _fields(liability: BaseModel, money_fields: tuple[str, ...], dates: tuple[str, ...]) -> dict:
    details: dict[str, Any] = {name: money(getattr(liability, name)) for name in money_fields}
    details.update((name, getattr(liability, name)) for name in dates)
    return details


def _record(kind: str, liability: Any, rate: Decimal | None, details: dict[str, Any]) -> dict:
    return {
        "kind": kind,
        "account_id": liability.account_id or "",
        "is_overdue": getattr(liability, "is_overdue", None),
        "interest_rate_percentage": rate,
        "minimum_payment_amount": details.get("minimum_payment_amount"),
        "last_payment_amount": details.get("last_payment_amount"),
        "last_statement_balance": details.get("last_statement_balance"),
        "next_payment_due_date": details.get("next_payment_due_date"),
        "details": _jsonable(details),
    }


def _credit(liability: models.CreditLiability) -> dict[str, Any]:
    aprs: list[dict[str, Any]] = [
        {
            "apr_percentage": money(apr.apr_percentage),
            "apr_type": apr.apr_type,
            "balance_subject_to_apr": money(apr.balance_subject_to_apr),
            "interest_charge_amount": money(apr.interest_charge_amount),
        }
        for apr in liability.aprs
    ]
    details: dict[str, Any] = {"aprs": aprs, **_fields(liability, _CREDIT_MONEY, _CREDIT_DATES)}
    purchase = [apr["apr_percentage"] for apr in aprs if apr["apr_type"] == "purchase_apr"]
    return _record("credit", liability, purchase[0] if purchase else None, details)


def _mortgage(liability: models.MortgageLiability) -> dict[str, Any]:
    details: dict[str, Any] = {}
    rate = liability.interest_rate
    if rate is not None:
        details["interest_rate_type"] = rate.type or ""
    details.update(_fields(liability, _MORTGAGE_MONEY, _MORTGAGE_DATES))
    details["has_pmi"] = liability.has_pmi
    details["has_prepayment_penalty"] = liability.has_prepayment_penalty
    details["loan_type_description"] = liability.loan_type_description or ""
    details["loan_term"] = liability.loan_term or ""
    # Mortgages report no minimum payment or overdue flag; the monthly payment is the minimum.
    details["minimum_payment_amount"] = details["next_monthly_payment"]
    past_due = details["past_due_amount"]
    overdue = bool(past_due and past_due > 0) if past_due is not None else None
    record = _record("mortgage", liability, money(rate.percentage) if rate else None, details)
    record["is_overdue"] = overdue
    return record


def _student(liability: models.StudentLiability) -> dict[str, Any]:
    details = _fields(liability, _STUDENT_MONEY, _STUDENT_DATES)
    if liability.loan_status is not None:
        details["loan_status"] = liability.loan_status.type or ""
    if liability.repayment_plan is not None:
        details["repayment_plan"] = liability.repayment_plan.type or ""
    details["loan_name"] = liability.loan_name or ""
    return _record("student", liability, money(liability.interest_rate_percentage), details)


_LIABILITY_RECORDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "credit": _credit,
    "mortgage": _mortgage,
    "student": _student,
}


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


def merge_credit_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A credit CSV's rows (one per APR) as one liability per account."""
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
