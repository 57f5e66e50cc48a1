"""Signals on hand-built data, at every threshold edge. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recommendations.engine.data import LiabilityData
from recommendations.engine.signals import compute_signals
from tests.support.engine import AS_OF, Tx, card, checking, data, savings_account, thresholds


def window(user_data, name: str = "30d") -> dict:
    return compute_signals(user_data, AS_OF, thresholds())["windows"][name]


# --- credit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "flags", "utilization"),
    [
        ("1499.99", [], 0.2999),  # rounded down: never shown across a line it did not cross
        ("1500", ["30%"], 0.3),
        ("2499.99", ["30%"], 0.4999),
        ("2500", ["30%", "50%"], 0.5),
        ("3999.99", ["30%", "50%"], 0.7999),
        ("4000", ["30%", "50%", "80%"], 0.8),
        ("0", [], 0.0),
    ],
)
def test_utilization_flags_at_exactly_30_50_80(
    balance: str, flags: list[str], utilization: float
) -> None:
    signals = window(data(Tx().add(1, 10), [checking(), card(balance, "5000")]))

    assert signals["credit"]["cards"][0]["flags"] == flags
    assert signals["credit"]["cards"][0]["utilization"] == utilization
    assert signals["credit"]["cards"][0]["mask"] == "4523"


def test_utilization_per_card_highest_first() -> None:
    signals = window(
        data(
            Tx().add(1, 10),
            [checking(), card("100", "1000", "1111", "a"), card("900", "1000", "2222", "b")],
        )
    )

    assert [(c["mask"], c["utilization"]) for c in signals["credit"]["cards"]] == [
        ("2222", 0.9),
        ("1111", 0.1),
    ]
    assert signals["credit"]["max_utilization"] == 0.9


def test_card_without_a_limit_has_no_utilization() -> None:
    signals = window(data(Tx().add(1, 10), [checking(), card("100", "0")]))

    assert signals["credit"]["cards"][0]["utilization"] is None
    assert signals["credit"]["max_utilization"] is None


@pytest.mark.parametrize(
    ("last_payment", "minimum_only"),
    [("35", True), ("36.75", True), ("36.76", False), (None, False)],
)
def test_minimum_payment_only(last_payment: str | None, minimum_only: bool) -> None:
    liability = LiabilityData(
        "card", "credit", False, Decimal(35), Decimal(last_payment) if last_payment else None
    )

    signals = window(data(Tx().add(1, 10), [checking(), card("100", "1000")], [liability]))

    assert signals["credit"]["minimum_payment_only"] is minimum_only


def test_interest_and_overdue() -> None:
    liabilities = [
        LiabilityData(
            "card", "credit", True, Decimal(35), Decimal(100), interest_charged=Decimal("12.50")
        ),
    ]
    tx = Tx().add(
        3, "4.10", "Interest Charge", "BANK_FEES", "BANK_FEES_INTEREST_CHARGE", account="card"
    )

    signals = window(data(tx, [checking(), card("100", "1000")], liabilities))

    assert signals["credit"]["interest_charged"] == "16.60"
    assert signals["credit"]["overdue"] is True
    assert signals["credit"]["overdue_accounts"] == ["4523"]


# --- subscriptions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "recurring"),
    [
        ([5, 35], False),  # two charges are not a pattern
        ([5, 35, 65], True),  # three monthly charges are
        ([5, 40, 70], True),  # a gap of 35 days: monthly, at the edge
        ([5, 41, 71], False),  # a gap of 36: cadence off by 6 days
        ([1, 8, 15], True),  # weekly
        ([1, 10, 19], True),  # every 9 days: weekly, at the edge (7 ± 2)
        ([1, 11, 21], False),  # every 10 days: neither weekly nor monthly
        ([5, 35, 65, 95], True),  # the fourth is older than 90 days: still three in range
        ([5, 35, 100], False),  # only two within the 90-day lookback
    ],
)
def test_recurring_detection_edges(days: list[int], recurring: bool) -> None:
    signals = window(data(Tx().every(days, "15.49", "Netflix", primary="ENTERTAINMENT")))

    assert signals["subscriptions"]["recurring_merchant_count"] == (1 if recurring else 0)


@pytest.mark.parametrize(
    ("amounts", "recurring"),
    [
        (["10", "10", "12"], True),  # within 20 % of the median (10)
        (["10", "10", "12.5"], False),  # 25 % off
        (["10", "10", "8"], True),  # 20 % below: at the edge
        (["10", "10", "7.5"], False),
    ],
)
def test_recurring_amount_tolerance(amounts: list[str], recurring: bool) -> None:
    tx = Tx()
    for day, amount in zip([5, 35, 65], amounts, strict=True):
        tx.add(day, amount, "Gym")

    assert window(data(tx))["subscriptions"]["recurring_merchant_count"] == (1 if recurring else 0)


@pytest.mark.parametrize(
    ("merchant", "primary", "detailed", "amount"),
    [
        ("Acme Payroll", "INCOME", "INCOME_WAGES", "-2000"),
        ("Greystone Apartments", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT", "1400"),
        ("Transfer to Savings", "TRANSFER_OUT", "TRANSFER_OUT_SAVINGS", "300"),
        ("Transfer from Mom", "TRANSFER_IN", "", "-300"),
        ("Monthly Service Fee", "BANK_FEES", "BANK_FEES_OTHER_BANK_FEES", "12"),
        ("Student Loan", "LOAN_PAYMENTS", "LOAN_PAYMENTS_STUDENT_LOAN_PAYMENT", "250"),
    ],
)
def test_these_are_never_subscriptions(
    merchant: str, primary: str, detailed: str, amount: str
) -> None:
    tx = Tx().every([5, 35, 65], amount, merchant, primary=primary, detailed=detailed)

    assert window(data(tx))["subscriptions"]["recurring_merchant_count"] == 0


def test_refunds_do_not_count_as_subscription_charges() -> None:
    # Plaid's sign: a negative amount is money in (a refund), never a charge.
    tx = Tx().every([5, 35, 65], "-15.49", "Netflix", primary="ENTERTAINMENT")

    assert window(data(tx))["subscriptions"]["recurring_merchant_count"] == 0


def test_subscription_figures_and_evidence() -> None:
    tx = (
        Tx()
        .every([5, 35, 65], "15.49", "Netflix", primary="ENTERTAINMENT")
        .every([2, 9, 16, 23, 30, 37], "10", "Coffee Club", primary="FOOD_AND_DRINK")
        .add(3, "100", "Groceries", "FOOD_AND_DRINK")
        .add(40, "999", "Laptop")  # outside the 30-day window: not in its spend figures
    )

    subs = window(data(tx))["subscriptions"]

    assert subs["recurring_merchant_count"] == 2
    by_name = {m["merchant"]: m for m in subs["recurring_merchants"]}
    assert by_name["Netflix"]["cadence"] == "monthly"
    assert by_name["Netflix"]["dates"] == ["2026-08-27", "2026-09-26", "2026-10-26"]
    assert by_name["Coffee Club"]["cadence"] == "weekly"
    assert by_name["Coffee Club"]["monthly_amount"] == "43.33"  # 10 x 52 / 12
    # The 30-day window is days 0..29: Netflix 15.49 + coffee 4 x 10 = 55.49 of 155.49 spent.
    assert subs["recurring_spend"] == "55.49"
    assert subs["total_spend"] == "155.49"
    assert subs["monthly_recurring_spend"] == "55.49"
    assert subs["subscription_share"] == 0.3568  # 0.35687..., rounded down


# --- windows, currency, pending ----------------------------------------------------------


def test_window_boundaries() -> None:
    tx = Tx().add(0, 1).add(29, 10).add(30, 100).add(179, 1000).add(180, 10000)

    signals = compute_signals(data(tx), AS_OF, thresholds())["windows"]

    assert signals["30d"]["subscriptions"]["total_spend"] == "11.00"
    assert signals["30d"]["start"] == "2026-10-02"
    assert signals["180d"]["subscriptions"]["total_spend"] == "1111.00"
    assert signals["180d"]["start"] == "2026-05-05"


def test_pending_and_other_currencies_are_left_out_and_traced() -> None:
    tx = Tx().add(1, 10).add(2, 20, pending=True).add(3, 30, currency="EUR").add(4, 40)

    result = compute_signals(data(tx), AS_OF, thresholds())

    assert result["windows"]["30d"]["subscriptions"]["total_spend"] == "50.00"
    assert result["inputs"]["pending_excluded"] == 1
    assert result["inputs"]["other_currency_excluded"] == {"EUR": 1}
    assert result["inputs"]["currency"] == "USD"


def test_as_of_is_the_latest_posted_transaction() -> None:
    tx = Tx().add(5, 10).add(0, 20, pending=True)

    assert data(tx).as_of() == AS_OF.replace(day=26)
    assert data(Tx()).as_of() is None


# --- savings -----------------------------------------------------------------------------


def test_savings_inflow_growth_and_emergency_fund() -> None:
    tx = (
        Tx()
        .add(10, "-500", "Transfer", "TRANSFER_IN", account="sav")
        .add(5, "100", "Groceries", "FOOD_AND_DRINK")
        .add(6, "1400", "Rent", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT")
    )

    savings = window(data(tx, [checking(), savings_account("5500")]))["savings"]

    assert savings["net_inflow"] == "500.00"
    assert savings["monthly_net_inflow"] == "500.00"
    assert savings["growth_rate"] == 0.1  # 500 on a 5,000 start
    assert savings["emergency_fund_months"] == 3.66  # 5,500 / 1,500 = 3.666..., rounded down
    assert savings["savings_balance"] == "5500.00"


def test_no_savings_account() -> None:
    savings = window(data(Tx().add(1, 10)))["savings"]

    assert savings["has_savings_account"] is False
    assert savings["growth_rate"] is None


# --- income ------------------------------------------------------------------------------


def test_income_frequency_gap_variability_and_buffer() -> None:
    tx = (
        Tx()
        .every([0, 14, 28, 42, 56, 70, 84], "-2000", "Payroll", primary="INCOME")
        .add(3, "3000", "Rent")
    )

    income = window(data(tx, [checking("1500", available="1200")]))["income"]

    assert income["median_gap_days"] == 14
    assert income["frequency"] == "biweekly"
    assert income["variability"] == 0.0
    assert income["deposit_count"] == 3  # days 0, 14, 28 are in the 30-day window
    # A rate, not the window's three paydays (6,000): 2,000 x 26 a year / 12.
    assert income["monthly_income"] == "4333.33"
    assert income["deposits_per_year"] == 26
    assert income["liquid_balance"] == "1200.00"  # available, when Plaid gives it
    assert income["cash_flow_buffer_months"] == 0.4  # 1,200 / 3,000 a month


def test_irregular_income_gap() -> None:
    tx = Tx().every([2, 60], "-3000", "Client", primary="INCOME").add(1, "100")

    income = window(data(tx), "180d")["income"]

    assert income["median_gap_days"] == 58
    assert income["frequency"] == "irregular"
