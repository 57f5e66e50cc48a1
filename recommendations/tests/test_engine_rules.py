"""Issue #20's rules, each at its boundary: bills are not subscriptions, one-legged savings,
regular income, monthly income as a rate, an offer for everyone eligible, uncategorised
spending. Pure: no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from recommendations.engine import personas
from recommendations.engine.choose import CatalogItem, choose, tags_for
from recommendations.engine.data import AccountData, TransactionData, UserData
from recommendations.engine.signals import compute_signals
from tests.support.engine import AS_OF, Tx, card, checking, data, thresholds


def signals_of(user_data: UserData, **t: Any) -> dict[str, Any]:
    return compute_signals(user_data, AS_OF, thresholds(**t))


def window(user_data: UserData, name: str = "30d", **t: Any) -> dict[str, Any]:
    result: dict[str, Any] = signals_of(user_data, **t)["windows"][name]
    return result


def monthly(tx: Tx, days: list[int], amount: str, merchant: str, detailed: str) -> Tx:
    primary = detailed.split("_")[0] if detailed.startswith("MEDICAL") else None
    for day in days:
        tx.add(day, amount, merchant, primary or _primary(detailed), detailed)
    return tx


def _primary(detailed: str) -> str:
    for primary in (
        "RENT_AND_UTILITIES",
        "GENERAL_SERVICES",
        "GOVERNMENT_AND_NON_PROFIT",
        "ENTERTAINMENT",
        "PERSONAL_CARE",
    ):
        if detailed.startswith(primary):
            return primary
    raise AssertionError(detailed)


MONTHS = [5, 35, 65]


def utilities_and_one_stream() -> UserData:
    tx = Tx()
    monthly(tx, MONTHS, "60", "City Water", "RENT_AND_UTILITIES_WATER")
    tx.add(5, "140", "PG&E", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY")
    tx.add(35, "95", "PG&E", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY")
    tx.add(65, "120", "PG&E", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY")
    monthly(tx, MONTHS, "70", "Comcast", "RENT_AND_UTILITIES_INTERNET_AND_CABLE")
    monthly(tx, MONTHS, "85", "Verizon", "RENT_AND_UTILITIES_TELEPHONE")
    monthly(tx, MONTHS, "15.49", "Netflix", "ENTERTAINMENT_TV_AND_MOVIES")
    tx.add(3, "200", "Grocer", "FOOD_AND_DRINK")
    return data(tx)


# --- bills are not subscriptions ---------------------------------------------------------


def test_utilities_are_bills_not_subscriptions() -> None:
    result = window(utilities_and_one_stream())

    subs, bills = result["subscriptions"], result["bills"]
    assert [s["merchant"] for s in subs["recurring_merchants"]] == ["Netflix"]
    assert subs["monthly_recurring_spend"] == "15.49"
    assert subs["subscription_share"] == 0.0271  # 15.49 of 570.49 spent (bills included)
    assert sorted(b["merchant"] for b in bills["recurring_bills"]) == [
        "City Water",
        "Comcast",
        "PG&E",
        "Verizon",
    ]
    assert bills["monthly_bill_spend"] == "355.00"  # 60 + 140 + 70 + 85 this window
    assert bills["bill_share"] == 0.6222


def education(slug: str, rationale_template: str, *tags: str) -> CatalogItem:
    return CatalogItem(
        slug=slug,
        kind="education",
        title=slug.capitalize(),
        content="c",
        rationale_template=rationale_template,
        tags=tags,
    )


def test_utilities_never_make_subscription_heavy_nor_an_audit_to_cancel() -> None:
    user = utilities_and_one_stream()
    audit = education(
        "audit", "Recurring charges such as {subscription_merchants} could go.", "subscriptions"
    )
    signals = signals_of(user)
    assigned = {n: personas.assign(w, thresholds()) for n, w in signals["windows"].items()}

    chosen, _ = choose([audit], signals, assigned, set(), thresholds())

    assert "subscription_heavy" not in assigned["30d"]["matched"]
    assert [c.rationale for c in chosen] == ["Recurring charges such as Netflix could go."]
    assert "bills" in tags_for(signals["windows"]["30d"], thresholds())


@pytest.mark.parametrize(
    ("detailed", "kind"),
    [
        ("GENERAL_SERVICES_INSURANCE", "bills"),
        ("GENERAL_SERVICES_CHILDCARE", "bills"),
        ("GENERAL_SERVICES_EDUCATION", "bills"),
        ("GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT", "bills"),
        ("RENT_AND_UTILITIES_RENT", "bills"),
        ("MEDICAL_PRIMARY_CARE", "bills"),
        ("GENERAL_SERVICES_OTHER_GENERAL_SERVICES", "subscriptions"),
        ("GOVERNMENT_AND_NON_PROFIT_DONATIONS", "subscriptions"),
        ("PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS", "subscriptions"),
    ],
)
def test_which_categories_are_bills(detailed: str, kind: str) -> None:
    tx = Tx()
    primary = "MEDICAL" if detailed.startswith("MEDICAL") else _primary(detailed)
    for day in MONTHS:
        tx.add(day, "50", "Provider", primary, detailed)

    result = window(data(tx))

    assert result["bills"]["recurring_bill_count"] == (1 if kind == "bills" else 0)
    assert result["subscriptions"]["recurring_merchant_count"] == (1 if kind != "bills" else 0)


@pytest.mark.parametrize(("high", "recurring"), [("150", True), ("150.01", False)])
def test_a_bill_may_move_50_percent_around_its_median(high: str, recurring: bool) -> None:
    tx = Tx()
    for day, amount in zip(MONTHS, ["100", high, "100"], strict=True):
        tx.add(day, amount, "PG&E", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY")

    assert window(data(tx))["bills"]["recurring_bill_count"] == (1 if recurring else 0)


# --- one-legged savings ------------------------------------------------------------------


def savings(days_between: int | None, *, with_account: bool) -> UserData:
    tx = Tx().every([2, 16, 30], "-2000", "Payroll", primary="INCOME")
    tx.add(10, "450", "Transfer to Savings", "TRANSFER_OUT", "TRANSFER_OUT_SAVINGS")
    accounts = [checking("3000")]
    if with_account:
        accounts.append(
            AccountData("sav", "depository", "savings", "Savings", "2222", Decimal(9000))
        )
        if days_between is not None:
            tx.add(
                10 - days_between,
                "-450",
                "From Checking",
                "TRANSFER_IN",
                "TRANSFER_IN_ACCOUNT_TRANSFER",
                account="sav",
            )
    return data(tx, accounts)


def test_a_transfer_out_to_savings_elsewhere_is_saving() -> None:
    user = savings(None, with_account=False)
    result = window(user)
    assigned = personas.assign(result, thresholds())

    assert result["savings"]["net_inflow"] == "450.00"
    assert result["savings"]["transfers_to_savings_elsewhere"] == "450.00"
    assert result["savings"]["saves_elsewhere"] is True
    assert "savings_builder" in assigned["matched"]
    assert "no_savings_account" not in tags_for(result, thresholds())


@pytest.mark.parametrize(
    ("days_between", "inflow", "matched"), [(5, "450.00", 1), (6, "900.00", 0)]
)
def test_both_legs_count_once_within_the_matching_days(
    days_between: int, inflow: str, matched: int
) -> None:
    result = window(savings(days_between, with_account=True))

    assert result["savings"]["net_inflow"] == inflow
    assert result["savings"]["transfers_matched_with_their_deposit"] == matched


# --- regular income ----------------------------------------------------------------------


def pay(days: list[int], amount: str = "-2000", buffer: str = "200") -> UserData:
    tx = Tx().every(days, amount, "Payroll", primary="INCOME", detailed="INCOME_WAGES")
    tx.add(0, "900", "Rent", "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT")
    return data(tx, [checking(buffer)])


def test_gaps_of_31_72_and_35_days_are_not_regular_pay() -> None:
    result = window(pay([0, 35, 107, 138], buffer="100"), "180d")
    assigned = personas.assign(result, thresholds())

    assert result["income"]["median_gap_days"] == 35
    assert result["income"]["longest_gap_days"] == 72
    assert result["income"]["regular"] is False
    assert assigned["persona"] == "variable_income_budgeter"
    assert "cash_flow_stretched" not in assigned["matched"]


@pytest.mark.parametrize(
    ("days", "regular"),
    [
        ([0, 45, 75, 105], True),  # median 30, longest 45 = 1.5 x 30
        ([0, 46, 76, 106], False),  # longest 46
        ([0, 45, 90, 135], True),  # median 45: at the threshold
        ([0, 46, 92, 138], False),  # median 46
        ([100, 130, 160], False),  # 100 days since the last pay: longer than 1.5 x 30
        ([45, 75, 105], True),  # 45 days since the last pay: still within
        ([30], None),  # one pay day: no gap to judge by
    ],
)
def test_regular_income_needs_a_median_and_a_bounded_longest_gap(
    days: list[int], regular: bool | None
) -> None:
    result = window(pay(days), "180d")
    assigned = personas.assign(result, thresholds())

    assert result["income"]["regular"] is regular
    # One measure: the two income personas can never both match, nor contradict it.
    assert not {"variable_income_budgeter", "cash_flow_stretched"} <= set(assigned["matched"])
    if regular is True:
        assert "variable_income_budgeter" not in assigned["matched"]
    else:
        assert "cash_flow_stretched" not in assigned["matched"]
    assert ("irregular_income" in tags_for(result, thresholds())) == (regular is False)


# --- monthly income is a rate ------------------------------------------------------------


@pytest.mark.parametrize("shift", range(14))
def test_a_biweekly_1850_earner_reads_4008_whatever_days_the_window_catches(shift: int) -> None:
    days = [shift + 14 * n for n in range(13)]
    rent = 1400

    result = window(pay(days, "-1850"))
    assigned = personas.assign(result, thresholds())

    assert result["income"]["monthly_income"] == "4008.33"
    assert result["income"]["frequency"] == "biweekly"
    stretched = assigned["evaluations"][4]["criteria"]
    assert stretched["spend_to_income"] == pytest.approx(900 / 4008.33, abs=1e-4)
    assert rent  # the rent is 900 in pay(): one figure whatever the window


@pytest.mark.parametrize(
    ("days", "amount", "frequency", "expected"),
    [
        ([0, 7, 14, 21, 28, 35, 42], "-500", "weekly", "2166.67"),  # x 52 / 12
        ([0, 30, 61, 91, 122, 153], "-4000", "monthly", "4000.00"),
        # the 1st and the 15th: median gap 15, mean 15.2 -> 24 a year
        ([0, 16, 30, 47, 61, 77, 91, 108, 122], "-2000", "semimonthly", "4000.00"),
        ([0, 20, 40, 60, 80], "-1000", "regular", "1521.88"),  # 365.25 / 20 a year
    ],
)
def test_pay_frequencies(days: list[int], amount: str, frequency: str, expected: str) -> None:
    income = window(pay(days, amount), "180d")["income"]

    assert income["frequency"] == frequency
    assert income["monthly_income"] == expected


def test_irregular_income_is_the_longest_windows_average() -> None:
    tx = Tx().every([2, 60, 130], "-3000", "Client", primary="INCOME").add(170, "10", "Shop")

    short = window(data(tx))["income"]
    long = window(data(tx), "180d")["income"]

    # 9,000 over the 171 days of history (the user's first transaction, 170 days back) = 5.7
    # months; both windows quote the same figure.
    assert short["monthly_income"] == long["monthly_income"] == "1578.95"
    assert long["average_days"] == 171
    assert long["monthly_income_method"] == "average of the last 171 days"


def test_interest_and_refunds_are_not_pay() -> None:
    tx = Tx().every([0, 14, 28, 42], "-2000", "Payroll", primary="INCOME")
    tx.add(5, "-0.52", "Bank", "INCOME", "INCOME_INTEREST_EARNED")
    tx.add(9, "-1200", "IRS", "INCOME", "INCOME_TAX_REFUND")

    income = window(data(tx))["income"]

    assert income["regular"] is True
    assert income["monthly_income"] == "4333.33"
    assert income["other_income_excluded"] == 2


def test_rationales_quote_the_rate() -> None:
    item = education("plan", "About ${monthly_income} a month comes in.", "has_income")
    user = pay([0, 14, 28, 42, 56], "-1850")  # three paydays in the 30-day window
    signals = signals_of(user)
    assigned = {n: personas.assign(w, thresholds()) for n, w in signals["windows"].items()}

    chosen, _ = choose([item], signals, assigned, set(), thresholds())

    assert [c.rationale for c in chosen] == ["About $4,008.33 a month comes in."]


# --- offers: everyone eligible gets one --------------------------------------------------


def offer(slug: str, priority: int = 0, **kwargs: Any) -> CatalogItem:
    kwargs.setdefault("rationale_template", "Spending averages ${monthly_expenses} a month.")
    return CatalogItem(
        slug=slug, kind="partner_offer", title=slug, content="c", priority=priority, **kwargs
    )


def choose_for(user: UserData, catalog: list[CatalogItem]) -> tuple[list[Any], list[Any]]:
    signals = signals_of(user)
    assigned = {n: personas.assign(w, thresholds()) for n, w in signals["windows"].items()}
    assert assigned["30d"]["persona"] is None
    assert assigned["180d"]["persona"] is None
    return choose(catalog, signals, assigned, set(), thresholds())


def no_persona() -> UserData:
    tx = Tx().every([0, 14, 28, 42, 56, 70], "-3000", "Payroll", primary="INCOME")
    return data(tx.add(3, "500"), [checking("20000")])


def test_a_user_without_a_persona_gets_the_best_eligible_offer() -> None:
    catalog = [offer("a", 1, tags=("overdue",)), offer("b", 2, personas=("high_utilization",))]

    chosen, excluded = choose_for(no_persona(), catalog)

    assert [c.item.slug for c in chosen] == ["b"]
    assert excluded == [
        {
            "slug": "a",
            "reasons": ["not_relevant_to_signals: a better-matched offer was chosen"],
            "score": 1,
        }
    ]


def test_relevant_offers_come_first_up_to_three() -> None:
    catalog = [offer(f"r{n}", tags=("has_income",)) for n in range(4)] + [offer("general", 9)]

    chosen, excluded = choose_for(no_persona(), catalog)

    assert [c.item.slug for c in chosen] == ["r0", "r1", "r2"]
    assert {e["slug"] for e in excluded} == {"r3", "general"}


def test_when_no_offer_is_eligible_the_trace_says_why_for_each() -> None:
    catalog = [
        offer("rich", eligibility={"min_monthly_income": 10000}),
        offer("card", eligibility={"requires_card": True}),
        offer("figures", rationale_template="Your card is at {card_utilization_pct}%."),
        offer("payday", predatory=True),
    ]

    chosen, excluded = choose_for(no_persona(), catalog)

    assert chosen == []
    assert {e["slug"]: e["reasons"] for e in excluded} == {
        "rich": ["min_monthly_income"],
        "card": ["requires_card"],
        "figures": ["rationale_facts_or_figures_missing"],
        "payday": ["not_predatory"],
    }


# --- uncategorised and odd data ----------------------------------------------------------


def test_uncategorised_spending_counts_as_spending_and_nothing_else() -> None:
    items = [
        TransactionData(f"u{n}", "chk", AS_OF - timedelta(days=d), Decimal(20), "Mystery", "")
        for n, d in enumerate(MONTHS)
    ]
    items.append(
        TransactionData(
            "l1", "chk", AS_OF, Decimal(10), "Cafe", "FOOD_AND_DRINK", category_source="legacy"
        )
    )
    items.append(TransactionData("n1", "chk", AS_OF, Decimal(5), "Newer", "CRYPTO"))

    result = signals_of(UserData(accounts=[checking()], transactions=items))

    assert result["inputs"]["uncategorised"] == 4
    assert result["inputs"]["categorised_from_legacy"] == 1
    short = result["windows"]["30d"]
    assert short["subscriptions"]["recurring_merchant_count"] == 0
    assert short["bills"]["recurring_bill_count"] == 0
    assert short["monthly_expenses"] == "35.00"  # 20 + 10 + 5


def test_dates_at_the_calendar_edge_compute() -> None:
    early = date(1, 1, 20)
    items = [TransactionData("t", "chk", early, Decimal(5), "Shop", "GENERAL_MERCHANDISE")]

    result = compute_signals(UserData([checking()], items), early, thresholds())

    assert result["windows"]["180d"]["start"] == "0001-01-01"


def test_the_cards_tag_still_reads_utilisation() -> None:
    # A guard that the new tags leave the old ones alone.
    tags = tags_for(window(data(Tx().add(1, 10), [checking(), card("4000", "5000")])), thresholds())

    assert {"has_card", "high_utilization", "utilization_30"} <= tags
