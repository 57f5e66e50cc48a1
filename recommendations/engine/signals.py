"""Behavioural signals for one window (DESIGN §7). Every figure is returned with its evidence.

Money is Decimal, in the user's main currency (the currency most of their posted transactions
use); other currencies are counted in ``inputs`` and left out. Pending transactions are left
out (Plaid replaces them when they post). A transaction whose primary category is empty or
not one of Plaid's is uncategorised: it counts as spending when money goes out, never as
income, a transfer, a bill or a subscription, and ``inputs`` counts it.

Over 400 lines on purpose: the four signals share one pass over the window's transactions
and its helpers (merchant keys, cadence, the main currency); split, each would repeat them.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any

from recommendations.engine.data import AccountData, TransactionData, UserData

SAVINGS_SUBTYPES = frozenset({"savings", "money market", "cash management", "hsa"})
LIQUID_SUBTYPES = frozenset(
    {"checking", "savings", "money market", "cash management", "prepaid", "paypal"}
)
# Plaid's personal finance category primaries (v1 and v2). Any other primary, or none, is
# uncategorised.
PRIMARIES = frozenset(
    {
        "INCOME",
        "TRANSFER_IN",
        "TRANSFER_OUT",
        "LOAN_PAYMENTS",
        "BANK_FEES",
        "ENTERTAINMENT",
        "FOOD_AND_DRINK",
        "GENERAL_MERCHANDISE",
        "HOME_IMPROVEMENT",
        "MEDICAL",
        "PERSONAL_CARE",
        "GENERAL_SERVICES",
        "GOVERNMENT_AND_NON_PROFIT",
        "TRANSPORTATION",
        "TRAVEL",
        "RENT_AND_UTILITIES",
        "LOAN_DISBURSEMENTS",
        "OTHER",
    }
)
NOT_RECURRING = frozenset(
    {"INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS", "LOAN_DISBURSEMENTS", "BANK_FEES"}
)
NOT_SPENDING = frozenset({"INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_DISBURSEMENTS"})
CARD_PAYMENT = "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"
INTEREST_FEE = "BANK_FEES_INTEREST_CHARGE"
TO_SAVINGS = "TRANSFER_OUT_SAVINGS"
_MERCHANT_NOISE = re.compile(r"[#*\d]+|\s+")
# Rounding figures of any size Plaid may send (up to 10^14 each, summed and divided) needs
# more digits than the default context's 28.
_WIDE = Context(prec=60)


def money(value: Decimal | float | int) -> str:
    """Money as a string with cents, for JSON (Decimal keeps its exactness)."""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=_WIDE))


def ratio(value: Decimal | float, places: str = "0.0001") -> float:
    """A ratio rounded *down*: compared with a threshold of no more decimals, the rounded
    figure crosses it exactly when the real one does (0.49999 never shows as 0.5)."""
    return float(Decimal(value).quantize(Decimal(places), rounding=ROUND_FLOOR, context=_WIDE))


@lru_cache(maxsize=8192)
def merchant_key(name: str) -> str:
    """A merchant's name without store numbers and noise. Memoised: the same few names recur
    on every charge, and this ran once per transaction per window."""
    return _MERCHANT_NOISE.sub(" ", name.lower()).strip()


def days_back(as_of: date, days: int) -> date:
    """The first day of a span of ``days`` days ending at ``as_of`` (never before year 1)."""
    return as_of - timedelta(days=min(days - 1, (as_of - date.min).days))


def is_bill(transaction: TransactionData, t: dict[str, Any]) -> bool:
    """Rent, utilities and the other essentials of ``bill_primaries`` / ``bill_detailed``."""
    return (
        transaction.pfc_primary in t["bill_primaries"]
        or transaction.pfc_detailed in t["bill_detailed"]
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
            "categorised_from_legacy": sum(1 for t in main if t.category_source == "legacy"),
            "uncategorised": sum(1 for t in main if t.pfc_primary not in PRIMARIES),
        },
    )


def _since(prepared: Prepared, days: int) -> list[TransactionData]:
    start = days_back(prepared.as_of, days)
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


def _recurring(
    by_merchant: dict[str, list[TransactionData]], tolerance: Decimal, t: dict[str, Any]
) -> list[dict[str, Any]]:
    """The merchants whose charges keep a cadence and an amount (DESIGN §7), with evidence."""
    recurring = []
    for charges in by_merchant.values():
        if len(charges) < t["recurring_min_charges"]:
            continue
        dates = [c.date for c in charges]
        gaps = [(b - a).days for a, b in pairwise(dates)]
        cadence = None
        for name, (period, slack) in t["recurring_cadences"].items():
            if gaps and all(abs(gap - period) <= slack for gap in gaps):
                cadence = name
                break
        if cadence is None:
            continue
        amounts = [c.amount for c in charges]
        median = Decimal(statistics.median(amounts))
        if median <= 0 or any(abs(a - median) > median * tolerance for a in amounts):
            continue
        per_month = median * Decimal(52) / Decimal(12) if cadence == "weekly" else median
        recurring.append(
            {
                "merchant": charges[-1].merchant,
                "category": charges[-1].pfc_detailed or charges[-1].pfc_primary,
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
    return recurring


def _months(days: int) -> Decimal:
    return Decimal(days) / Decimal(30)


def recurring_charges(
    prepared: Prepared, window: int, t: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(subscriptions, bills): recurring charges, split by what they pay for.

    Recurring detection always looks back ``recurring_lookback_days`` (or the window, if
    longer); the window decides the spend figures. Bills (``is_bill``) are essentials: they
    are reported on their own and never counted, summed or named as subscriptions. Charges
    without a merchant name or a known category are neither.
    """
    lookback = max(window, t["recurring_lookback_days"])
    start = days_back(prepared.as_of, lookback)
    subscription_charges: dict[str, list[TransactionData]] = defaultdict(list)
    bill_charges: dict[str, list[TransactionData]] = defaultdict(list)
    for tx in prepared.transactions:
        if (
            tx.date < start
            or tx.amount <= 0
            or tx.pfc_primary not in PRIMARIES
            or tx.pfc_primary in NOT_RECURRING
        ):
            continue
        key = merchant_key(tx.merchant)
        if not key:
            continue
        (bill_charges if is_bill(tx, t) else subscription_charges)[key].append(tx)

    subscriptions = _recurring(
        subscription_charges, Decimal(str(t["recurring_amount_tolerance"])), t
    )
    bills = _recurring(bill_charges, Decimal(str(t["bill_amount_tolerance"])), t)
    in_window = _since(prepared, window)
    total_spend = _spending(in_window)

    subscription_keys = {merchant_key(r["merchant"]) for r in subscriptions}
    bill_keys = {merchant_key(r["merchant"]) for r in bills}
    subscription_spend = bill_spend = Decimal(0)
    for tx in in_window:
        if tx.amount <= 0 or tx.pfc_primary not in PRIMARIES or tx.pfc_primary in NOT_RECURRING:
            continue
        if is_bill(tx, t):
            if merchant_key(tx.merchant) in bill_keys:
                bill_spend += tx.amount
        elif merchant_key(tx.merchant) in subscription_keys:
            subscription_spend += tx.amount
    months = _months(window)
    return (
        {
            "recurring_merchant_count": len(subscriptions),
            "recurring_merchants": subscriptions,
            "recurring_spend": money(subscription_spend),
            "monthly_recurring_spend": money(subscription_spend / months),
            "total_spend": money(total_spend),
            "subscription_share": ratio(subscription_spend / total_spend)
            if total_spend > 0
            else 0.0,
            "lookback_days": lookback,
        },
        {
            "recurring_bill_count": len(bills),
            "recurring_bills": bills,
            "bill_spend": money(bill_spend),
            "monthly_bill_spend": money(bill_spend / months),
            "bill_share": ratio(bill_spend / total_spend) if total_spend > 0 else 0.0,
            "lookback_days": lookback,
        },
    )


def savings(
    prepared: Prepared, window: int, expenses_monthly: Decimal, t: dict[str, Any]
) -> dict[str, Any]:
    """Net inflow to savings-like accounts, one-legged transfers to savings included.

    A ``TRANSFER_OUT_SAVINGS`` from an account that is not savings-like is saving too: its
    other leg lands in a savings account that may not be in the upload. When that leg is in
    the data (a deposit of the same amount into a savings-like account within
    ``savings_transfer_match_days``), the pair counts once, as the deposit.
    """
    accounts = [
        a
        for a in prepared.accounts.values()
        if a.type == "depository" and a.subtype in SAVINGS_SUBTYPES
    ]
    ids = {a.account_id for a in accounts}
    in_window = _since(prepared, window)
    flows = [t for t in in_window if t.account_id in ids]
    # Deposits into savings that could be the other leg of a transfer out, each used once.
    deposits = [t for t in prepared.transactions if t.account_id in ids and t.amount < 0]
    used: set[str] = set()
    slack = timedelta(days=t["savings_transfer_match_days"])
    external = []
    matched = 0
    for tx in in_window:
        if tx.pfc_detailed != TO_SAVINGS or tx.amount <= 0 or tx.account_id in ids:
            continue
        leg = next(
            (
                d
                for d in deposits
                if d.transaction_id not in used
                and -d.amount == tx.amount
                and abs((d.date - tx.date).days) <= slack.days
            ),
            None,
        )
        if leg is None:
            external.append(tx)
        else:
            used.add(leg.transaction_id)
            matched += 1
    inflow_in_accounts = -sum((t.amount for t in flows), Decimal(0))  # negative = money in
    external_inflow = sum((t.amount for t in external), Decimal(0))
    inflow = inflow_in_accounts + external_inflow
    balance = sum((a.current or Decimal(0) for a in accounts), Decimal(0))
    start_balance = balance - inflow_in_accounts
    return {
        "has_savings_account": bool(accounts),
        # Transfers out to savings whose other leg is not in the data: the person saves in an
        # account we do not see.
        "saves_elsewhere": bool(external),
        "accounts": [
            {"name": a.name, "mask": a.mask, "subtype": a.subtype, "balance": money(a.current or 0)}
            for a in accounts
        ],
        "savings_balance": money(balance),
        "net_inflow": money(inflow),
        "inflow_to_savings_accounts": money(inflow_in_accounts),
        "transfers_to_savings_elsewhere": money(external_inflow),
        "transfers_to_savings_elsewhere_count": len(external),
        "transfers_matched_with_their_deposit": matched,
        "monthly_net_inflow": money(inflow / _months(window)),
        "growth_rate": ratio(inflow_in_accounts / start_balance) if start_balance > 0 else None,
        "emergency_fund_months": ratio(balance / expenses_monthly, "0.01")
        if expenses_monthly > 0
        else None,
        "flows": [
            {"date": t.date.isoformat(), "amount": money(-t.amount), "merchant": t.merchant}
            for t in flows
        ][-20:]
        + [
            {
                "date": t.date.isoformat(),
                "amount": money(t.amount),
                "merchant": t.merchant,
                "leg": "transfer out to a savings account not in the data",
            }
            for t in external
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
    """Pay deposits, whether they are regular, and monthly income as a rate.

    Pay is money in categorised ``INCOME`` (less ``income_not_pay``), summed per day.
    Regular: at least two pay days, the median gap within ``persona_variable_income_gap_days``
    and no gap over ``income_max_gap_ratio`` x the median (the time since the last pay day
    counts once it is longer than that). Irregular is every other case with two pay days or
    more; with fewer, regularity is unknown (None).

    Monthly income: regular pay is the median pay day's amount x pay days a year / 12 (a
    biweekly $1,850 is $4,008.33 whichever days the window catches); anything else is the
    average of the last ``income_average_days`` (or all the history, if shorter).
    """
    lookback = max(window, t["income_lookback_days"])
    start = days_back(prepared.as_of, lookback)
    deposits = [
        tx
        for tx in prepared.transactions
        if tx.date >= start and tx.pfc_primary == "INCOME" and tx.amount < 0
    ]
    pay = [tx for tx in deposits if tx.pfc_detailed not in t["income_not_pay"]]
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for tx in pay:
        by_day[tx.date] -= tx.amount
    dates = sorted(by_day)
    gaps = [(b - a).days for a, b in pairwise(dates)]
    median_gap = float(statistics.median(gaps)) if gaps else None
    open_gap = (prepared.as_of - dates[-1]).days if dates else None
    longest = None
    regular: bool | None = None
    if median_gap is not None and open_gap is not None:
        longest = max(*gaps, open_gap) if open_gap > median_gap else max(gaps)
        regular = (
            median_gap <= t["persona_variable_income_gap_days"]
            and longest <= t["income_max_gap_ratio"] * median_gap
        )
    mean_gap = (dates[-1] - dates[0]).days / len(gaps) if gaps else None
    frequency, per_year = _pay_frequency(median_gap, mean_gap, regular, t)

    if regular and per_year is not None:
        per_deposit = Decimal(statistics.median(by_day.values()))
        monthly_income = per_deposit * Decimal(str(per_year)) / Decimal(12)
        method = f"{money(per_deposit)} per pay day x {per_year:g} a year / 12"
        average_days = None
    else:
        per_deposit = None
        first = prepared.transactions[0].date if prepared.transactions else prepared.as_of
        average_days = min(t["income_average_days"], (prepared.as_of - first).days + 1)
        since = days_back(prepared.as_of, average_days)
        total = -sum(
            (
                tx.amount
                for tx in prepared.transactions
                if tx.date >= since
                and tx.pfc_primary == "INCOME"
                and tx.amount < 0
                and tx.pfc_detailed not in t["income_not_pay"]
            ),
            Decimal(0),
        )
        monthly_income = total / _months(average_days)
        method = f"average of the last {average_days} days"

    in_window = [tx for tx in pay if tx.date >= days_back(prepared.as_of, window)]
    amounts = list(by_day.values())
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
    return {
        "deposit_count": len(in_window),
        "deposits": [
            {"date": tx.date.isoformat(), "amount": money(-tx.amount), "source": tx.merchant}
            for tx in pay
        ][-24:],
        "other_income_excluded": len(deposits) - len(pay),
        "gaps_days": gaps,
        "median_gap_days": median_gap,
        "mean_gap_days": round(mean_gap, 2) if mean_gap is not None else None,
        "days_since_last_deposit": open_gap,
        "longest_gap_days": longest,
        "max_gap_ratio": t["income_max_gap_ratio"],
        "regular": regular,
        "frequency": frequency,
        "deposits_per_year": round(per_year, 2) if per_year is not None else None,
        "amount_per_deposit": money(per_deposit) if per_deposit is not None else None,
        "monthly_income": money(monthly_income),
        "monthly_income_method": method,
        "average_days": average_days,
        "variability": variability,
        "liquid_balance": money(liquid),
        "cash_flow_buffer_months": ratio(liquid / expenses_monthly, "0.01")
        if expenses_monthly > 0
        else None,
        "lookback_days": lookback,
    }


def _pay_frequency(
    median_gap: float | None, mean_gap: float | None, regular: bool | None, t: dict[str, Any]
) -> tuple[str | None, float | None]:
    """(frequency, pay days a year) of regular pay; ("irregular", None) otherwise."""
    if median_gap is None or mean_gap is None:
        return None, None
    if not regular:
        return "irregular", None
    for name, (low, high, per_year) in t["pay_frequencies"].items():
        if low <= median_gap <= high:
            if name == "biweekly" and mean_gap > t["semimonthly_mean_gap_days"]:
                return "semimonthly", 24
            return name, per_year
    return "regular", 365.25 / mean_gap if mean_gap > 0 else None


def window_signals(
    prepared: Prepared, data: UserData, window: int, thresholds: dict[str, Any]
) -> dict[str, Any]:
    """All four signal groups for one window ending at ``prepared.as_of``."""
    expenses_monthly = _spending(_since(prepared, window)) / _months(window)
    subscriptions, bills = recurring_charges(prepared, window, thresholds)
    result = {
        "subscriptions": subscriptions,
        "bills": bills,
        "savings": savings(prepared, window, expenses_monthly, thresholds),
        "credit": credit(prepared, data, window, thresholds),
        "income": income(prepared, window, expenses_monthly, thresholds),
        "monthly_expenses": money(expenses_monthly),
        "window_days": window,
        "start": days_back(prepared.as_of, window).isoformat(),
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
