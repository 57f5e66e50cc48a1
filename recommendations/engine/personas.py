"""Personas (DESIGN §7): evaluated in priority order, first match wins, every match traced.

Both income personas read one measure, ``income.regular`` (signals.income): variable income
is irregular pay, ``cash_flow_stretched`` needs regular pay, so they can never disagree.

The fifth persona, ``cash_flow_stretched``, is ours: regular income, but spending takes
(nearly) all of it or the cash buffer is under half a month. It ranks last because it is
the broadest: the four before it name a more specific pattern with a more specific remedy
(credit costs, irregular pay, subscriptions, a savings habit to encourage); when none of
those applies, thin slack in the month is still worth addressing with budgeting basics.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from recommendations.engine.signals import ratio

PRIORITY = (
    "high_utilization",
    "variable_income_budgeter",
    "subscription_heavy",
    "savings_builder",
    "cash_flow_stretched",
)

DESCRIPTIONS = {
    "high_utilization": (
        "Cards carry high balances or cost interest; focus: lowering utilisation and interest."
    ),
    "variable_income_budgeter": (
        "Income arrives irregularly and the buffer is thin; focus: smoothing cash flow."
    ),
    "subscription_heavy": "Recurring subscriptions add up; focus: auditing recurring spend.",
    "savings_builder": "Saving steadily with cards under control; focus: growing savings.",
    "cash_flow_stretched": (
        "Regular income, but little left over at month end; focus: a budget and a small buffer."
    ),
}


def _d(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def evaluate(window: dict[str, Any], t: dict[str, Any]) -> list[dict[str, Any]]:
    """Each persona with ``matched`` and the criteria (and figures) that decided it."""
    credit = window["credit"]
    subs = window["subscriptions"]
    savings = window["savings"]
    income = window["income"]
    max_util = credit["max_utilization"]
    buffer = income["cash_flow_buffer_months"]
    gap = income["median_gap_days"]
    regular = income["regular"]
    monthly_income = _d(income["monthly_income"])
    monthly_expenses = _d(window["monthly_expenses"])

    high_cards = [
        c
        for c in credit["cards"]
        if c["utilization"] is not None and c["utilization"] >= t["persona_high_utilization"]
    ]
    high_utilization = {
        "card_at_or_over_50pct": [
            f"{c['name']} …{c['mask']} at {round(c['utilization'] * 100)}%" for c in high_cards
        ],
        "interest_charged": credit["interest_charged"],
        "minimum_payment_only": credit["minimum_payment_only"],
        "overdue": credit["overdue"],
    }
    variable = {
        "income_regular": regular,
        "median_gap_days": gap,
        "longest_gap_days": income["longest_gap_days"],
        "cash_flow_buffer_months": buffer,
        "buffer_under_months": t["persona_variable_income_buffer_months"],
    }
    subscription = {
        "recurring_merchant_count": subs["recurring_merchant_count"],
        "monthly_recurring_spend": subs["monthly_recurring_spend"],
        "subscription_share": subs["subscription_share"],
    }
    saver = {
        "growth_rate": savings["growth_rate"],
        "monthly_net_inflow": savings["monthly_net_inflow"],
        "max_utilization": max_util,
    }
    spend_ratio = ratio(monthly_expenses / monthly_income) if monthly_income > 0 else None
    stretched = {
        "income_regular": regular,
        "monthly_income": income["monthly_income"],
        "spend_to_income": spend_ratio,
        "cash_flow_buffer_months": buffer,
    }

    results = [
        {
            "persona": "high_utilization",
            "matched": bool(high_cards)
            or _d(credit["interest_charged"]) > 0
            or credit["minimum_payment_only"]
            or credit["overdue"],
            "criteria": high_utilization,
        },
        {
            "persona": "variable_income_budgeter",
            "matched": regular is False
            and buffer is not None
            and buffer < t["persona_variable_income_buffer_months"],
            "criteria": variable,
        },
        {
            "persona": "subscription_heavy",
            "matched": subs["recurring_merchant_count"] >= t["persona_subscription_min_merchants"]
            and (
                _d(subs["monthly_recurring_spend"])
                >= Decimal(str(t["persona_subscription_monthly_spend"]))
                or subs["subscription_share"] >= t["persona_subscription_share"]
            ),
            "criteria": subscription,
        },
        {
            "persona": "savings_builder",
            "matched": (
                (
                    savings["growth_rate"] is not None
                    and savings["growth_rate"] >= t["persona_savings_growth"]
                )
                or _d(savings["monthly_net_inflow"])
                >= Decimal(str(t["persona_savings_monthly_inflow"]))
            )
            and all(
                c["utilization"] is None or c["utilization"] < t["utilization_flags"][0]
                for c in credit["cards"]
            ),
            "criteria": saver,
        },
        {
            "persona": "cash_flow_stretched",
            "matched": regular is True
            and (
                (spend_ratio is not None and spend_ratio >= t["persona_stretched_spend_ratio"])
                or (buffer is not None and buffer < t["persona_stretched_buffer_months"])
            ),
            "criteria": stretched,
        },
    ]
    for result in results:
        result["matched"] = bool(result["matched"])
    return results


def assign(window: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    """``{persona, matched: [names], evaluations: [...], reason}`` for one window."""
    evaluations = evaluate(window, t)
    matched = [e["persona"] for e in evaluations if e["matched"]]
    persona = matched[0] if matched else None
    if persona is None:
        reason = "No persona's criteria matched."
    elif len(matched) == 1:
        reason = f"Only {persona} matched."
    else:
        reason = (
            f"{persona} ranks first of the matches ({', '.join(matched)}) in the priority order."
        )
    return {"persona": persona, "matched": matched, "evaluations": evaluations, "reason": reason}
