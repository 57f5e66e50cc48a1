"""Choosing items: relevance, offer eligibility, truthful rationales, tone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recommendations.engine import personas
from recommendations.engine.choose import DISCLAIMER, CatalogItem, choose, tone_problems
from recommendations.engine.signals import compute_signals
from recommendations.synthetic import ARCHETYPES, synthetic_user
from tests.support.engine import AS_OF, Tx, card, checking, data, savings_account, thresholds


def run(user_data, catalog: list[CatalogItem], held: set[str] | None = None, **t: Any):
    signals = compute_signals(user_data, AS_OF, thresholds(**t))
    assigned = {name: personas.assign(w, thresholds(**t)) for name, w in signals["windows"].items()}
    return choose(
        catalog, signals, assigned, held or {a.subtype for a in user_data.accounts}, thresholds(**t)
    )


def offer(slug: str, **kwargs: Any) -> CatalogItem:
    defaults: dict[str, Any] = {
        "kind": "partner_offer",
        "title": slug,
        "content": "c",
        "rationale_template": "Your card is at {card_utilization_pct}%.",
        "personas": ("high_utilization", "savings_builder"),
    }
    return CatalogItem(slug=slug, **{**defaults, **kwargs})


def education(slug: str, template: str, **kwargs: Any) -> CatalogItem:
    return CatalogItem(
        slug=slug, kind="education", title=slug, content="c", rationale_template=template, **kwargs
    )


def saver(with_savings_account: bool) -> Any:
    tx = Tx().every([0, 14, 28], "-2500", "Payroll", primary="INCOME")
    accounts = [checking("4000"), card("100", "5000")]
    if with_savings_account:
        tx.add(10, "-400", "Transfer", "TRANSFER_IN", account="sav")
        accounts.append(savings_account("6000"))
    return data(tx, accounts)


def test_no_savings_offer_to_a_saver_who_already_has_one() -> None:
    savings_offer = offer(
        "hysa",
        rationale_template="With about ${monthly_income} a month coming in, open one.",
        personas=("savings_builder",),
        tags=("has_income",),
        eligibility={"exclude_if_has_subtypes": ["savings"]},
    )

    chosen, excluded = run(saver(with_savings_account=True), [savings_offer])
    chosen_without, _ = run(saver(with_savings_account=False), [savings_offer])

    assert chosen == []
    assert excluded[0]["slug"] == "hysa"
    assert "not_already_holding:savings" in excluded[0]["reasons"]
    assert [c.item.slug for c in chosen_without] == ["hysa"]


def test_no_offer_past_a_utilization_cap() -> None:
    capped = offer("bt", eligibility={"max_utilization": 0.9}, tags=("high_utilization",))

    over, excluded = run(data(Tx().add(1, 10), [checking(), card("4600", "5000")]), [capped])
    under, _ = run(data(Tx().add(1, 10), [checking(), card("4500", "5000")]), [capped])

    assert over == []
    assert excluded[0]["rules"] == [
        {"rule": "max_utilization", "passed": False, "value": 0.92, "threshold": 0.9}
    ]
    assert [c.item.slug for c in under] == ["bt"]


def test_minimum_income_rule() -> None:
    needs_income = offer("card", eligibility={"min_monthly_income": 3000}, tags=("has_card",))

    chosen, excluded = run(data(Tx().add(1, 10), [checking(), card("100", "1000")]), [needs_income])

    assert chosen == []
    assert "min_monthly_income" in excluded[0]["reasons"]


def test_predatory_offers_are_never_chosen() -> None:
    payday = offer("payday", predatory=True, priority=100, tags=("has_card",))

    chosen, excluded = run(data(Tx().add(1, 10), [checking(), card("4000", "5000")]), [payday])

    assert chosen == []
    assert "not_predatory" in excluded[0]["reasons"]


def test_an_irrelevant_offer_gives_way_to_a_relevant_one_with_its_reason() -> None:
    # Issue #20: relevance ranks offers, it no longer bars them (see test_engine_rules.py).
    user = data(Tx().add(1, 10), [checking(), card("4000", "5000")])
    relevant = offer("relevant", personas=("high_utilization",))
    irrelevant = offer("x", personas=(), tags=("overdue",))

    chosen, excluded = run(user, [relevant, irrelevant])

    assert [c.item.slug for c in chosen] == ["relevant"]
    assert excluded[0]["slug"] == "x"
    assert excluded[0]["reasons"][0].startswith("not_relevant_to_signals")


def test_a_rationale_never_claims_a_fact_that_does_not_hold() -> None:
    claim = education(
        "minimum",
        "Your last payment was the minimum on the ${card_balance} balance.",
        personas=("high_utilization",),
        requires=("minimum_payment_only",),
    )

    chosen, _ = run(data(Tx().add(1, 10), [checking(), card("4000", "5000")]), [claim])

    assert chosen == []


def test_a_rationale_needs_its_figures() -> None:
    needs_card = education("u", "At {card_utilization_pct}%.", personas=("subscription_heavy",))

    chosen, _ = run(data(Tx().add(1, 10)), [needs_card])

    assert chosen == []


def test_between_three_and_five_education_items_and_at_most_three_offers() -> None:
    catalog = [
        education(f"e{n}", "Spent ${monthly_expenses} a month.", tags=("has_card",), priority=n)
        for n in range(8)
    ]
    catalog += [offer(f"o{n}", tags=("high_utilization",)) for n in range(5)]

    chosen, excluded = run(data(Tx().add(1, 10), [checking(), card("4000", "5000")]), catalog)

    kinds = [c.item.kind for c in chosen]
    assert kinds.count("education") == 5
    assert [c.item.slug for c in chosen if c.item.kind == "education"] == [
        "e7",
        "e6",
        "e5",
        "e4",
        "e3",
    ]
    assert kinds.count("partner_offer") == 3
    assert sum(1 for e in excluded if e["reasons"] == ["ranked below the top offers"]) == 2


def test_general_items_fill_up_to_three() -> None:
    catalog = [
        education("specific", "Spent ${monthly_expenses}.", tags=("has_card",)),
        education("general-a", "We looked at {window_days} days."),
        education("general-b", "We looked at {window_days} days, again."),
        education("general-c", "And {window_days} once more."),
    ]

    chosen, _ = run(data(Tx().add(1, 10), [checking(), card("100", "5000")]), catalog)

    assert [c.item.slug for c in chosen] == ["specific", "general-a", "general-b"]


def test_rationale_cites_the_users_numbers() -> None:
    item = education(
        "util",
        "Your {card_name} ending in {card_mask} is at {card_utilization_pct}% utilization "
        "(${card_balance} of a ${card_limit} limit).",
        personas=("high_utilization",),
    )

    chosen, _ = run(data(Tx().add(1, 10), [checking(), card("3400", "5000")]), [item])

    assert (
        chosen[0].rationale
        == "Your Visa ending in 4523 is at 68% utilization ($3,400 of a $5,000 limit)."
    )
    assert chosen[0].window == "30d"
    assert chosen[0].persona == "high_utilization"


def test_the_disclaimer_is_the_designed_one() -> None:
    assert DISCLAIMER == (
        "This is educational content, not financial advice. "
        "Consult a licensed advisor for personalized guidance."
    )


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("You are irresponsible with money.", ["irresponsible"]),
        ("Stop being LAZY and wasteful", ["lazy", "wasteful"]),
        ("Your card is at 68% utilization.", []),
    ],
)
def test_tone_check(text: str, problems: list[str]) -> None:
    assert tone_problems(text) == problems


@pytest.mark.django_db
def test_every_seeded_rationale_for_every_archetype_is_truthful_in_tone_and_cites_figures() -> None:
    from recommendations.selectors import catalog_load
    from uploads.validation import parse_upload

    catalog, _ = catalog_load()
    assert len([c for c in catalog if c.kind == "education"]) >= 12
    assert len([c for c in catalog if c.kind == "partner_offer"]) >= 6
    for index in range(len(ARCHETYPES) * 2):
        synthetic = synthetic_user(index, 3)
        parsed = parse_upload(json.dumps(synthetic.body).encode(), known_account_ids=set())
        user_data = _to_data(parsed)
        chosen, _ = run(user_data, catalog)
        education_count = sum(1 for c in chosen if c.item.kind == "education")
        assert 3 <= education_count <= 5, synthetic.archetype
        assert sum(1 for c in chosen if c.item.kind == "partner_offer") <= 3
        for choice in chosen:
            assert tone_problems(choice.rationale) == [], choice.rationale
            assert "{" not in choice.rationale
            assert any(ch.isdigit() for ch in choice.rationale), choice.rationale
            assert choice.item.slug != "payday-advance"


def _to_data(parsed: Any) -> Any:
    from decimal import Decimal

    from recommendations.engine.data import AccountData, LiabilityData, TransactionData, UserData

    return UserData(
        accounts=[
            AccountData(
                a["account_id"],
                a["type"],
                a["subtype"],
                a["name"],
                a["mask"],
                a["current"],
                a["available"],
                a["limit"],
            )
            for a in parsed.accounts
        ],
        transactions=[
            TransactionData(
                t["transaction_id"],
                t["account_id"],
                t["date"],
                t["amount"],
                t["merchant_name"] or t["name"],
                t["pfc_primary"],
                t["pfc_detailed"],
            )
            for t in parsed.transactions
        ],
        liabilities=[
            LiabilityData(
                lia["account_id"],
                lia["kind"],
                lia["is_overdue"],
                lia["minimum_payment_amount"],
                lia["last_payment_amount"],
                sum(
                    (
                        Decimal(a["interest_charge_amount"] or 0)
                        for a in lia["details"].get("aprs", [])
                    ),
                    Decimal(0),
                ),
            )
            for lia in parsed.liabilities
        ],
    )
