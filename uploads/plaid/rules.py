"""The second pass over an upload: the rules across records.

Each record is checked by its model (``uploads.plaid.models``, first pass), then here:
an account referenced but absent (from this upload and from earlier valid ones), an id
twice in a list, a liability on the wrong kind of account, a subtype outside its type's
list, and exactly one currency code (reported once the fields read before it are fine).
The errors of one record come in the order of its model's fields. What passes becomes the
record ingestion writes (``uploads.plaid.records``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from uploads import plaid
from uploads.limits import ID_MAX_LENGTH
from uploads.plaid import models
from uploads.plaid.errors import ErrorLog, Issue, check, shown
from uploads.plaid.records import (
    LIABILITY_RECORDS,
    ParsedUpload,
    account_record,
    transaction_record,
)

# A CSV row already reported as malformed: keeps row numbers aligned, reports nothing more.
SKIP: Any = object()


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
                    isinstance(kind, str)
                    and kind in subtypes
                    and subtype is not None
                    and not (isinstance(subtype, str) and subtype in subtypes[kind])
                ):
                    # Named against its type (the model's own message names no type).
                    detail = f"{shown(subtype)} is not a valid subtype for a {kind} account."
                    issues = [issue for issue in issues if issue[0] != ("subtype",)]
                    issues.append((("subtype",), "invalid_choice", detail))
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
            self.parsed.accounts.append(account_record(account))
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
            self._transactions[transaction.transaction_id] = transaction_record(transaction)
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
            record = LIABILITY_RECORDS[kind](liability)
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
