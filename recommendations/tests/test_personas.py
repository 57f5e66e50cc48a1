"""Persona priority, overlaps and the trace of every match. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

from recommendations.engine import personas
from recommendations.engine.data import LiabilityData
from recommendations.engine.signals import compute_signals
from tests.support.engine import AS_OF, Tx, card, checking, data, savings_account, thresholds


def assign(user_data, name: str = "30d") -> dict:
    window = compute_signals(user_data, AS_OF, thresholds())["windows"][name]
    return personas.assign(window, thresholds())


SUBSCRIPTIONS = [("Netflix", "15.49"), ("Spotify", "11.99"), ("Hulu", "17.99")]


def with_subscriptions(tx: Tx) -> Tx:
    for merchant, amount in SUBSCRIPTIONS:
        tx.every([5, 35, 65], amount, merchant, primary="ENTERTAINMENT")
    return tx


def test_high_utilization_wins_over_subscriptions_and_the_trace_lists_both() -> None:
    tx = with_subscriptions(Tx())

    result = assign(data(tx, [checking(), card("2500", "5000")]))

    assert result["persona"] == "high_utilization"
    assert result["matched"] == ["high_utilization", "subscription_heavy"]
    assert "ranks first" in result["reason"]
    evaluations = {e["persona"]: e for e in result["evaluations"]}
    assert evaluations["high_utilization"]["criteria"]["card_at_or_over_50pct"] == [
        "Visa …4523 at 50%"
    ]
    assert evaluations["subscription_heavy"]["criteria"]["recurring_merchant_count"] == 3
    assert len(result["evaluations"]) == 5  # every persona is evaluated and recorded


def test_card_just_under_50_is_not_high_utilization() -> None:
    assert (
        assign(data(Tx().add(1, 10), [checking(), card("2499.99", "5000")]))["persona"]
        != "high_utilization"
    )


def test_interest_alone_makes_high_utilization() -> None:
    liability = LiabilityData(
        "card", "credit", False, Decimal(35), Decimal(200), interest_charged=Decimal("0.01")
    )

    assert (
        assign(data(Tx().add(1, 10), [checking(), card("10", "5000")], [liability]))["persona"]
        == "high_utilization"
    )


def test_variable_income_budgeter() -> None:
    tx = Tx().every([2, 60, 120], "-3000", "Client", primary="INCOME").add(1, "2000", "Rent")

    result = assign(data(tx, [checking("500")]))

    assert result["persona"] == "variable_income_budgeter"
    # The 30-day window's income looks back 90 days: deposits on days 60 and 2, 58 days apart.
    assert result["evaluations"][1]["criteria"]["median_gap_days"] == 58


def test_variable_income_with_a_buffer_is_not_a_budgeter() -> None:
    tx = Tx().every([2, 60, 120], "-3000", "Client", primary="INCOME").add(1, "2000", "Rent")

    assert assign(data(tx, [checking("9000")]))["persona"] != "variable_income_budgeter"


def test_subscription_heavy_needs_spend_or_share() -> None:
    cheap = Tx()
    for merchant in ("A", "B", "C"):
        cheap.every([5, 35, 65], "1", merchant)
    cheap.add(3, "1000", "Furniture")  # share 0.3 %, monthly 3: below both bars

    assert assign(data(cheap))["persona"] != "subscription_heavy"
    assert assign(data(with_subscriptions(Tx())))["persona"] == "subscription_heavy"


def test_savings_builder_needs_cards_under_30() -> None:
    tx = Tx().add(10, "-300", "Transfer", "TRANSFER_IN", account="sav").add(5, "50")

    saver = assign(data(tx, [checking(), savings_account("5300"), card("1400", "5000")]))
    near_30 = assign(data(tx, [checking(), savings_account("5300"), card("1500", "5000")]))

    assert saver["persona"] == "savings_builder"
    assert near_30["persona"] != "savings_builder"


def test_the_fifth_persona_cash_flow_stretched() -> None:
    tx = (
        Tx()
        .every([0, 14, 28, 42, 56, 70], "-1000", "Payroll", primary="INCOME")
        .add(3, "2950", "Rent")
    )

    result = assign(data(tx, [checking("3100")]))

    assert result["persona"] == "cash_flow_stretched"
    criteria = result["evaluations"][4]["criteria"]
    # 2,950 of 2,166.67 a month (1,000 x 26 paydays / 12: a rate, not three paydays' sum)
    assert criteria["spend_to_income"] == 1.3615
    assert criteria["monthly_income"] == "2166.67"
    assert criteria["cash_flow_buffer_months"] == 1.05  # not low: the spending ratio decided
    assert criteria["income_regular"] is True


def test_nothing_matches() -> None:
    tx = Tx().every([0, 14, 28, 42, 56, 70], "-3000", "Payroll", primary="INCOME").add(3, "500")

    result = assign(data(tx, [checking("20000")]))

    assert result["persona"] is None
    assert result["matched"] == []
    assert result["reason"] == "No persona's criteria matched."


def test_priority_order_is_the_documented_one() -> None:
    assert personas.PRIORITY == (
        "high_utilization",
        "variable_income_budgeter",
        "subscription_heavy",
        "savings_builder",
        "cash_flow_stretched",
    )
