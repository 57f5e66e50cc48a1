"""The records ingestion writes, made of validated Plaid models (``ParsedUpload``).

Numbers are rounded to the column's 4 places, absent text is ``""``, a transaction's
category is resolved (PFC, else the legacy list mapped, else none), and a liability keeps
what the engine reads in columns and the rest in ``details`` (JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel

from uploads.categories import from_legacy
from uploads.plaid import models


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


def account_record(account: models.Account) -> dict[str, Any]:
    balances = account.balances
    return {
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


def transaction_record(transaction: models.Transaction) -> dict[str, Any]:
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


LIABILITY_RECORDS: dict[str, Callable[[Any], dict[str, Any]]] = {
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
