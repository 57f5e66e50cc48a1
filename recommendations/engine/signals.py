"""Behavioural signals for one window (DESIGN §7). Every figure is returned with its evidence.

Money is Decimal, in the user's main currency (the currency most of their posted transactions
use); other currencies are counted in ``inputs`` and left out. Pending transactions are left
out (Plaid replaces them when they post).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from recommendations.engine.data import AccountData, TransactionData, UserData

SAVINGS_SUBTYPES = frozenset({"savings", "money market", "cash management", "hsa"})
LIQUID_SUBTYPES = frozenset(
    {"checking", "savings", "money market", "cash management", "prepaid", "paypal"}
)
NOT_SUBSCRIPTIONS = frozenset(
    {"INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS", "BANK_FEES"}
)
NOT_SPENDING = frozenset({"INCOME", "TRANSFER_IN", "TRANSFER_OUT"})
CARD_PAYMENT = "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"
INTEREST_FEE = "BANK_FEES_INTEREST_CHARGE"
_MERCHANT_NOISE = re.compile(r"[#*\d]+|\s+")


def money(value: Decimal | float | int) -> str:
    """Money as a string with cents, for JSON (Decimal keeps its exactness)."""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def ratio(value: Decimal | float, places: str = "0.0001") -> float:
    """A ratio rounded *down*: compared with a threshold of no more decimals, the rounded
    figure crosses it exactly when the real one does (0.49999 never shows as 0.5)."""
    return float(Decimal(value).quantize(Decimal(places), rounding=ROUND_FLOOR))


def merchant_key(name: str) -> str:
    return _MERCHANT_NOISE.sub(" ", name.lower()).strip()


def is_rent(transaction: TransactionData) -> bool:
    if transaction.pfc_primary != "RENT_AND_UTILITIES":
        return False
    return (
        transaction.pfc_detailed in ("", "RENT_AND_UTILITIES_RENT")
        or "rent" in transaction.merchant.lower()
    )


@dataclass(frozen=True)
class Prepared:
    """What every window reads: posted transactions in the main currency, accounts by id."""

    as_of: date
    currency: str
    transactions: list[TransactionData]
    accounts: dict[str, AccountData]
    inputs: dict[str, Any]


def prepare(data: UserData, as_of: date) -> Prepared:
    posted = [t for t in data.transactions if not t.pending and t.date <= as_of]
    currencies = Counter(t.currency for t in posted) or Counter(a.currency for a in data.accounts)
    currency = currencies.most_common(1)[0][0] if currencies else "USD"
    main = [t for t in posted if t.currency == currency]
    return Prepared(
        as_of=as_of,
        currency=currency,
        transactions=sorted(main, key=lambda t: (t.date, t.transaction_id)),
        accounts={a.account_id: a for a in data.accounts},
        inputs={
            "currency": currency,
            "transactions_used": len(main),
            "pending_excluded": sum(1 for t in data.transactions if t.pending),
            "other_currency_excluded": dict(
                sorted(
                    (c, n) for c, n in Counter(t.currency for t in posted).items() if c != currency
                )
            ),
            "accounts": len(data.accounts),
            "liabilities": len(data.liabilities),
        },
    )


def _since(prepared: Prepared, days: int) -> list[TransactionData]:
    start = prepared.as_of - timedelta(days=days - 1)
    return [t for t in prepared.transactions if t.date >= start]


def _spending(transactions: list[TransactionData]) -> Decimal:
    return sum(
        (
            t.amount
            for t in transactions
            if t.amount > 0 and t.pfc_primary not in NOT_SPENDING and t.pfc_detailed != CARD_PAYMENT
        ),
        Decimal(0),
    )


def _months(days: int) -> Decimal:
    return Decimal(days) / Decimal(30)


def subscriptions(prepared: Prepared, window: int, t: dict[str, Any]) -> dict[str, Any]:
    lookback = max(window, t["recurring_lookback_days"])
    start = prepared.as_of - timedelta(days=lookback - 1)
    by_merchant: dict[str, list[TransactionData]] = defaultdict(list)
    for tx in prepared.transactions:
        if tx.date < start or tx.amount <= 0 or tx.pfc_primary in NOT_SUBSCRIPTIONS or is_rent(tx):
            continue
        by_merchant[merchant_key(tx.merchant)].append(tx)

    recurring = []
    for charges in by_merchant.values():
        if len(charges) < t["recurring_min_charges"]:
            continue
        dates = [c.date for c in charges]
        gaps = [(b - a).days for a, b in pairwise(dates)]
        cadence = None
        for name, (period, tolerance) in t["recurring_cadences"].items():
            if gaps and all(abs(gap - period) <= tolerance for gap in gaps):
                cadence = name
                break
        if cadence is None:
            continue
        amounts = [c.amount for c in charges]
        median = Decimal(statistics.median(amounts))
        if median <= 0 or any(
            abs(a - median) > median * Decimal(str(t["recurring_amount_tolerance"]))
            for a in amounts
        ):
            continue
        per_month = median * Decimal(52) / Decimal(12) if cadence == "weekly" else median
        recurring.append(
            {
                "merchant": charges[-1].merchant,
                "cadence": cadence,
                "charges": len(charges),
                "median_amount": money(median),
                "monthly_amount": money(per_month),
                "amounts": [money(a) for a in amounts],
                "dates": [d.isoformat() for d in dates],
                "gaps_days": gaps,
            }
        )
    recurring.sort(key=lambda r: (-Decimal(r["monthly_amount"]), r["merchant"]))
    keys = {merchant_key(r["merchant"]) for r in recurring}
    in_window = _since(prepared, window)
    recurring_spend = sum(
        (
            tx.amount
            for tx in in_window
            if tx.amount > 0
            and merchant_key(tx.merchant) in keys
            and tx.pfc_primary not in NOT_SUBSCRIPTIONS
        ),
        Decimal(0),
    )
    total_spend = _spending(in_window)
    monthly = recurring_spend / _months(window)
    return {
        "recurring_merchant_count": len(recurring),
        "recurring_merchants": recurring,
        "recurring_spend": money(recurring_spend),
        "monthly_recurring_spend": money(monthly),
        "total_spend": money(total_spend),
        "subscription_share": ratio(recurring_spend / total_spend) if total_spend > 0 else 0.0,
        "lookback_days": lookback,
    }


def savings(prepared: Prepared, window: int, expenses_monthly: Decimal) -> dict[str, Any]:
    accounts = [
        a
        for a in prepared.accounts.values()
        if a.type == "depository" and a.subtype in SAVINGS_SUBTYPES
    ]
    ids = {a.account_id for a in accounts}
    flows = [t for t in _since(prepared, window) if t.account_id in ids]
    inflow = -sum((t.amount for t in flows), Decimal(0))  # Plaid: negative = money in
    balance = sum((a.current or Decimal(0) for a in accounts), Decimal(0))
    start_balance = balance - inflow
    return {
        "has_savings_account": bool(accounts),
        "accounts": [
            {"name": a.name, "mask": a.mask, "subtype": a.subtype, "balance": money(a.current or 0)}
            for a in accounts
        ],
        "savings_balance": money(balance),
        "net_inflow": money(inflow),
        "monthly_net_inflow": money(inflow / _months(window)),
        "growth_rate": ratio(inflow / start_balance) if start_balance > 0 else None,
        "emergency_fund_months": ratio(balance / expenses_monthly, "0.01")
        if expenses_monthly > 0
        else None,
        "flows": [
            {"date": t.date.isoformat(), "amount": money(-t.amount), "merchant": t.merchant}
            for t in flows
        ][-20:],
    }


def credit(prepared: Prepared, data: UserData, window: int, t: dict[str, Any]) -> dict[str, Any]:
    cards: list[dict[str, Any]] = []
    for account in prepared.accounts.values():
        if account.type != "credit":
            continue
        balance = account.current or Decimal(0)
        utilization = balance / account.limit if account.limit and account.limit > 0 else None
        cards.append(
            {
                "name": account.name,
                "mask": account.mask,
                "balance": money(balance),
                "limit": money(account.limit) if account.limit is not None else None,
                "utilization": ratio(utilization) if utilization is not None else None,
                "flags": [
                    f"{int(level * 100)}%"
                    for level in t["utilization_flags"]
                    if utilization is not None and utilization >= Decimal(str(level))
                ],
            }
        )
    cards.sort(key=lambda c: (-float(c["utilization"] or 0), str(c["mask"])))
    card_ids = {a.account_id for a in prepared.accounts.values() if a.type == "credit"}
    credit_liabilities = [liability for liability in data.liabilities if liability.kind == "credit"]
    tolerance = Decimal(str(t["minimum_payment_tolerance"]))
    minimum_only = [
        liability.account_id
        for liability in credit_liabilities
        if liability.minimum_payment_amount
        and liability.minimum_payment_amount > 0
        and liability.last_payment_amount is not None
        and liability.last_payment_amount <= liability.minimum_payment_amount * (1 + tolerance)
    ]
    interest_fees = sum(
        (
            tx.amount
            for tx in _since(prepared, window)
            if tx.pfc_detailed == INTEREST_FEE and tx.amount > 0
        ),
        Decimal(0),
    )
    interest = (
        sum((liability.interest_charged for liability in credit_liabilities), Decimal(0))
        + interest_fees
    )
    overdue = [liability.account_id for liability in data.liabilities if liability.is_overdue]
    utilizations = [c["utilization"] for c in cards if c["utilization"] is not None]
    return {
        "card_count": len(cards),
        "cards": cards,
        "max_utilization": max(utilizations) if utilizations else None,
        "minimum_payment_only": bool(minimum_only),
        "minimum_payment_only_accounts": [_mask(prepared, i) for i in minimum_only],
        "interest_charged": money(interest),
        "overdue": bool(overdue),
        "overdue_accounts": [_mask(prepared, i) for i in overdue],
        "has_card": bool(card_ids),
    }


def _mask(prepared: Prepared, account_id: str) -> str:
    account = prepared.accounts.get(account_id)
    return account.mask if account is not None and account.mask else account_id[-4:]


def income(
    prepared: Prepared, window: int, expenses_monthly: Decimal, t: dict[str, Any]
) -> dict[str, Any]:
    lookback = max(window, t["income_lookback_days"])
    start = prepared.as_of - timedelta(days=lookback - 1)
    deposits = [
        tx
        for tx in prepared.transactions
        if tx.date >= start and tx.pfc_primary == "INCOME" and tx.amount < 0
    ]
    dates = sorted({d.date for d in deposits})
    gaps = [(b - a).days for a, b in pairwise(dates)]
    median_gap = float(statistics.median(gaps)) if gaps else None
    in_window = [tx for tx in deposits if tx.date >= prepared.as_of - timedelta(days=window - 1)]
    amounts = [-tx.amount for tx in deposits]
    variability = None
    if len(amounts) >= 2 and statistics.mean(amounts) > 0:
        variability = ratio(Decimal(statistics.pstdev(amounts)) / Decimal(statistics.mean(amounts)))
    liquid = sum(
        (
            (a.available if a.available is not None else a.current) or Decimal(0)
            for a in prepared.accounts.values()
            if a.type == "depository" and a.subtype in LIQUID_SUBTYPES
        ),
        Decimal(0),
    )
    window_income = -sum((tx.amount for tx in in_window), Decimal(0))
    return {
        "deposit_count": len(in_window),
        "deposits": [
            {"date": tx.date.isoformat(), "amount": money(-tx.amount), "source": tx.merchant}
            for tx in deposits
        ][-24:],
        "gaps_days": gaps,
        "median_gap_days": median_gap,
        "frequency": _frequency(median_gap),
        "variability": variability,
        "monthly_income": money(window_income / _months(window)),
        "liquid_balance": money(liquid),
        "cash_flow_buffer_months": ratio(liquid / expenses_monthly, "0.01")
        if expenses_monthly > 0
        else None,
        "lookback_days": lookback,
    }


def _frequency(median_gap: float | None) -> str | None:
    if median_gap is None:
        return None
    if median_gap <= 9:
        return "weekly"
    if median_gap <= 17:
        return "biweekly"
    if 25 <= median_gap <= 35:
        return "monthly"
    return "irregular"


def window_signals(
    prepared: Prepared, data: UserData, window: int, thresholds: dict[str, Any]
) -> dict[str, Any]:
    """All four signal groups for one window ending at ``prepared.as_of``."""
    expenses_monthly = _spending(_since(prepared, window)) / _months(window)
    result = {
        "subscriptions": subscriptions(prepared, window, thresholds),
        "savings": savings(prepared, window, expenses_monthly),
        "credit": credit(prepared, data, window, thresholds),
        "income": income(prepared, window, expenses_monthly, thresholds),
        "monthly_expenses": money(expenses_monthly),
        "window_days": window,
        "start": (prepared.as_of - timedelta(days=window - 1)).isoformat(),
        "end": prepared.as_of.isoformat(),
    }
    result["detected"] = detected(result)
    return result


def detected(window: dict[str, Any]) -> list[str]:
    """The signal groups with something to say (coverage counts users with at least three)."""
    found = []
    if window["subscriptions"]["recurring_merchant_count"] > 0:
        found.append("subscriptions")
    if window["savings"]["has_savings_account"]:
        found.append("savings")
    if window["credit"]["has_card"]:
        found.append("credit")
    if window["income"]["deposit_count"] > 0:
        found.append("income")
    return found


def compute_signals(data: UserData, as_of: date, thresholds: dict[str, Any]) -> dict[str, Any]:
    """``{"as_of", "inputs", "windows": {"30d": {...}, "180d": {...}}}``."""
    prepared = prepare(data, as_of)
    return {
        "as_of": as_of.isoformat(),
        "inputs": prepared.inputs,
        "windows": {
            f"{w}d": window_signals(prepared, data, w, thresholds) for w in thresholds["windows"]
        },
    }
