"""Choosing recommendations: relevance to the user's signals, eligibility of offers, and a
rationale rendered from their own numbers. Pure: the catalog comes in as plain items.

Just over 400 lines: relevance, eligibility and rendering are one decision, traced together.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DISCLAIMER = (
    "This is educational content, not financial advice. "
    "Consult a licensed advisor for personalized guidance."
)

# Words a rationale must never use: the tone is neutral and never shaming.
TONE_BLOCKLIST = (
    "irresponsible",
    "reckless",
    "lazy",
    "careless",
    "shame",
    "ashamed",
    "stupid",
    "wasteful",
    "bad with money",
    "poor decisions",
    "you should have",
    "failure",
    "overspender",
    "out of control",
)


def tone_problems(text: str) -> list[str]:
    """The blocked phrases found in ``text`` (case-insensitive)."""
    lowered = text.lower()
    return [phrase for phrase in TONE_BLOCKLIST if phrase in lowered]


# Every figure rationale_context can offer; catalog templates may cite only these.
RATIONALE_FIELDS = frozenset(
    {
        "card_name",
        "card_mask",
        "card_utilization_pct",
        "card_balance",
        "card_limit",
        "interest_charged",
        "subscription_count",
        "subscription_merchants",
        "monthly_recurring_spend",
        "subscription_share_pct",
        "bill_count",
        "bill_merchants",
        "monthly_bill_spend",
        "savings_balance",
        "monthly_net_inflow",
        "emergency_fund_months",
        "savings_growth_pct",
        "monthly_income",
        "median_gap_days",
        "buffer_months",
        "liquid_balance",
        "monthly_expenses",
        "window_days",
    }
)
KNOWN_TAGS = frozenset(
    {
        "utilization_30",
        "high_utilization",
        "interest_charged",
        "minimum_payment_only",
        "overdue",
        "has_card",
        "no_card",
        "subscriptions",
        "many_subscriptions",
        "bills",
        "has_savings",
        "no_savings_account",
        "saving",
        "emergency_fund_short",
        "low_buffer",
        "irregular_income",
        "has_income",
    }
)


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class CatalogItem:
    slug: str
    kind: str  # education | partner_offer
    title: str
    content: str
    rationale_template: str
    personas: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    priority: int = 0
    product_type: str = ""
    partner: str = ""
    eligibility: dict[str, Any] = field(default_factory=dict)
    predatory: bool = False


@dataclass
class Choice:
    item: CatalogItem
    window: str
    persona: str | None
    score: int
    reasons: list[str]
    rationale: str
    eligibility: list[dict[str, Any]] = field(default_factory=list)


def _amount(value: Decimal | str | float) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.2f}"


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def tags_for(window: dict[str, Any], t: dict[str, Any]) -> set[str]:
    """Facts about one window that make catalog items relevant."""
    credit, subs, savings, income = (
        window["credit"],
        window["subscriptions"],
        window["savings"],
        window["income"],
    )
    tags = set()
    utilizations = [c["utilization"] for c in credit["cards"] if c["utilization"] is not None]
    if utilizations and max(utilizations) >= t["utilization_flags"][0]:
        tags.add("utilization_30")
    if utilizations and max(utilizations) >= t["persona_high_utilization"]:
        tags.add("high_utilization")
    if Decimal(credit["interest_charged"]) > 0:
        tags.add("interest_charged")
    if credit["minimum_payment_only"]:
        tags.add("minimum_payment_only")
    if credit["overdue"]:
        tags.add("overdue")
    if credit["has_card"]:
        tags.add("has_card")
    else:
        tags.add("no_card")
    if subs["recurring_merchant_count"] >= 1:
        tags.add("subscriptions")
    if subs["recurring_merchant_count"] >= t["persona_subscription_min_merchants"]:
        tags.add("many_subscriptions")
    if window["bills"]["recurring_bill_count"] >= 1:
        tags.add("bills")
    if savings["has_savings_account"]:
        tags.add("has_savings")
    elif not savings["saves_elsewhere"]:
        # Transfers out to a savings account we do not see mean the person has one.
        tags.add("no_savings_account")
    if Decimal(savings["net_inflow"]) > 0:
        tags.add("saving")
    months = savings["emergency_fund_months"]
    if months is None or months < t["emergency_fund_target_months"]:
        tags.add("emergency_fund_short")
    buffer = income["cash_flow_buffer_months"]
    if buffer is not None and buffer < 1:
        tags.add("low_buffer")
    if income["regular"] is False:
        tags.add("irregular_income")
    if income["deposit_count"] > 0:
        tags.add("has_income")
    return tags


def rationale_context(window: dict[str, Any]) -> dict[str, str]:
    """The user's own figures a rationale may cite, formatted for reading."""
    context: dict[str, str] = {}
    credit, subs, savings, income = (
        window["credit"],
        window["subscriptions"],
        window["savings"],
        window["income"],
    )
    cards = [c for c in credit["cards"] if c["utilization"] is not None]
    if cards:
        top = cards[0]
        context.update(
            card_name=top["name"] or "card",
            card_mask=top["mask"] or "----",
            card_utilization_pct=str(round(top["utilization"] * 100)),
            card_balance=_amount(top["balance"]),
            card_limit=_amount(top["limit"]),
        )
    if Decimal(credit["interest_charged"]) > 0:
        context["interest_charged"] = _amount(credit["interest_charged"])
    if subs["recurring_merchant_count"]:
        merchants = [m["merchant"] for m in subs["recurring_merchants"]]
        context.update(
            subscription_count=str(subs["recurring_merchant_count"]),
            subscription_merchants=_names(merchants[:3])
            + (" and others" if len(merchants) > 3 else ""),
            monthly_recurring_spend=_amount(subs["monthly_recurring_spend"]),
            subscription_share_pct=str(round(subs["subscription_share"] * 100)),
        )
    bills = window["bills"]
    if bills["recurring_bill_count"]:
        names = [b["merchant"] for b in bills["recurring_bills"]]
        context.update(
            bill_count=str(bills["recurring_bill_count"]),
            bill_merchants=_names(names[:3]) + (" and others" if len(names) > 3 else ""),
            monthly_bill_spend=_amount(bills["monthly_bill_spend"]),
        )
    if savings["has_savings_account"] or Decimal(savings["net_inflow"]) > 0:
        context["monthly_net_inflow"] = _amount(savings["monthly_net_inflow"])
    if savings["has_savings_account"]:
        context["savings_balance"] = _amount(savings["savings_balance"])
        if savings["emergency_fund_months"] is not None:
            context["emergency_fund_months"] = f"{savings['emergency_fund_months']:.1f}"
        if savings["growth_rate"] is not None:
            context["savings_growth_pct"] = f"{savings['growth_rate'] * 100:.1f}"
    if income["deposit_count"] or income["median_gap_days"] is not None:
        context["monthly_income"] = _amount(income["monthly_income"])
    if income["median_gap_days"] is not None:
        context["median_gap_days"] = str(round(income["median_gap_days"]))
    if income["cash_flow_buffer_months"] is not None:
        context["buffer_months"] = f"{income['cash_flow_buffer_months']:.1f}"
        context["liquid_balance"] = _amount(income["liquid_balance"])
    if Decimal(window["monthly_expenses"]) > 0:
        context["monthly_expenses"] = _amount(window["monthly_expenses"])
    context["window_days"] = str(window["window_days"])
    return context


def _render(template: str, context: dict[str, str]) -> str | None:
    if not template_fields(template) <= set(context):
        return None  # the figures it cites are not there: never render a rationale without them
    return re.sub(r"\s+", " ", template.format(**context)).strip()


def _cite(
    item: CatalogItem,
    preferred: str,
    tags: dict[str, set[str]],
    contexts: dict[str, dict[str, str]],
) -> tuple[str, str | None]:
    """The window whose facts and figures the rationale can state truthfully, and the text.

    The preferred window first, then the other; None when neither holds what it claims.
    """
    for window in (preferred, *[w for w in contexts if w != preferred]):
        if not set(item.requires) <= tags.get(window, set()):
            continue
        rationale = _render(item.rationale_template, contexts[window])
        if rationale is not None:
            return window, rationale
    return preferred, None


def _relevance(
    item: CatalogItem, personas: dict[str, str | None], tags: dict[str, set[str]], t: dict[str, Any]
) -> tuple[int, list[str], str | None]:
    score = item.priority
    reasons: list[str] = []
    window: str | None = None
    for name, weight in (("30d", t["score_persona_30d"]), ("180d", t["score_persona_180d"])):
        if personas.get(name) and personas[name] in item.personas:
            score += weight
            reasons.append(f"persona {personas[name]} ({name})")
            window = window or name
    for name, weight in (("30d", t["score_tag_30d"]), ("180d", t["score_tag_180d"])):
        hits = sorted(set(item.tags) & tags.get(name, set()))
        if hits:
            score += weight * len(hits)
            reasons.append(f"signals {', '.join(hits)} ({name})")
            window = window or name
    return score, reasons, window


def _offer_rules(
    item: CatalogItem, signals: dict[str, Any], held_subtypes: set[str]
) -> list[dict[str, Any]]:
    """Each eligibility rule of an offer with the user's value and whether it passed."""
    rules = []
    long = signals["windows"]["180d"]
    rules_data = item.eligibility
    if item.predatory:
        rules.append({"rule": "not_predatory", "passed": False, "value": True, "threshold": False})
    if "min_monthly_income" in rules_data:
        income = Decimal(long["income"]["monthly_income"])
        minimum = Decimal(str(rules_data["min_monthly_income"]))
        rules.append(
            {
                "rule": "min_monthly_income",
                "passed": income >= minimum,
                "value": str(income),
                "threshold": str(minimum),
            }
        )
    if "max_utilization" in rules_data:
        util = long["credit"]["max_utilization"]
        cap = float(rules_data["max_utilization"])
        rules.append(
            {
                "rule": "max_utilization",
                "passed": util is None or util <= cap,
                "value": util,
                "threshold": cap,
            }
        )
    if rules_data.get("requires_card"):
        rules.append(
            {
                "rule": "requires_card",
                "passed": long["credit"]["has_card"],
                "value": long["credit"]["has_card"],
                "threshold": True,
            }
        )
    for subtype in rules_data.get("exclude_if_has_subtypes", []):
        holds = subtype in held_subtypes
        rules.append(
            {
                "rule": f"not_already_holding:{subtype}",
                "passed": not holds,
                "value": holds,
                "threshold": False,
            }
        )
    return rules


def choose(
    catalog: list[CatalogItem],
    signals: dict[str, Any],
    personas: dict[str, dict[str, Any]],
    held_subtypes: set[str],
    thresholds: dict[str, Any],
    exclude_slugs: frozenset[str] = frozenset(),
) -> tuple[list[Choice], list[dict[str, Any]]]:
    """The items to recommend (education first, then offers) and the offers left out, why."""
    t = thresholds
    windows = signals["windows"]
    persona_by_window = {name: personas[name]["persona"] for name in windows}
    tags = {name: tags_for(window, t) for name, window in windows.items()}
    contexts = {name: rationale_context(window) for name, window in windows.items()}

    education: list[Choice] = []
    general: list[Choice] = []
    offers: list[Choice] = []
    general_offers: list[Choice] = []  # eligible, but matching no persona or signal
    excluded: list[dict[str, Any]] = []
    for item in catalog:
        if item.slug in exclude_slugs:
            if item.kind == "partner_offer":
                excluded.append({"slug": item.slug, "reasons": ["already decided for this user"]})
            continue
        score, reasons, preferred = _relevance(item, persona_by_window, tags, t)
        window, rationale = _cite(item, preferred or "30d", tags, contexts)
        if item.kind == "partner_offer":
            rules = _offer_rules(item, signals, held_subtypes)
            failed = [r["rule"] for r in rules if not r["passed"]]
            if rationale is None:
                failed.append("rationale_facts_or_figures_missing")
            if failed or rationale is None:
                excluded.append({"slug": item.slug, "reasons": failed, "rules": rules})
                continue
            offer = Choice(
                item, window, persona_by_window.get(window), score, reasons, rationale, rules
            )
            (offers if reasons else general_offers).append(offer)
            continue
        if rationale is None:
            continue
        choice = Choice(item, window, persona_by_window.get(window), score, reasons, rationale)
        (education if reasons else general).append(choice)

    def rank(choices: list[Choice]) -> list[Choice]:
        return sorted(choices, key=lambda c: (-c.score, c.item.slug))

    picked = rank(education)[: t["education_max"]]
    if len(picked) < t["education_min"]:
        picked += rank(general)[: t["education_min"] - len(picked)]
    # Offers: relevant eligible ones, best first; a person none of them fits still gets the
    # best eligible general one (persona or not): at least one whenever any is eligible.
    chosen_offers = rank(offers)[: t["offers_max"]] or rank(general_offers)[:1]
    chosen = {c.item.slug for c in chosen_offers}
    for left_out in rank(offers) + rank(general_offers):
        if left_out.item.slug in chosen:
            continue
        excluded.append(
            {
                "slug": left_out.item.slug,
                "reasons": [
                    "ranked below the top offers"
                    if left_out.reasons
                    else "not_relevant_to_signals: a better-matched offer was chosen"
                ],
                "score": left_out.score,
            }
        )
    return picked + chosen_offers, excluded
