"""Factories of the recommendations models."""

from __future__ import annotations

import factory

from recommendations.engine.choose import DISCLAIMER
from recommendations.models import (
    EducationItem,
    Feedback,
    FeedbackRating,
    PartnerOffer,
    PersonaAssignment,
    Recommendation,
    RecommendationType,
    SignalSnapshot,
    Window,
)
from tests.support.factories.accounts import AS_OF, UserOwnedFactory


class SignalSnapshotFactory(UserOwnedFactory[SignalSnapshot]):
    """One window's signals of a user with no spending to speak of (the engine's shape; a test
    sets the figures it reads)."""

    class Meta:
        model = SignalSnapshot

    window = Window.DAYS_30
    as_of = AS_OF
    data = factory.LazyFunction(
        lambda: {"subscriptions": {}, "savings": {}, "credit": {"cards": []}, "income": {}}
    )
    inputs = factory.LazyFunction(
        lambda: {"currency": "USD", "transactions_used": 0, "accounts": 0, "liabilities": 0}
    )


class PersonaAssignmentFactory(UserOwnedFactory[PersonaAssignment]):
    class Meta:
        model = PersonaAssignment

    window = Window.DAYS_30
    persona = "high_utilization"
    matched = factory.LazyAttribute(lambda row: [row.persona] if row.persona else [])
    # The engine's shape: one evaluation per persona tried (here only the one assigned).
    evaluations = factory.LazyAttribute(
        lambda row: [{"persona": row.persona or "high_utilization", "matched": bool(row.persona)}]
    )
    reason = "Matched on the figures of the window."
    as_of = AS_OF


class EducationItemFactory(factory.django.DjangoModelFactory[EducationItem]):
    class Meta:
        model = EducationItem

    slug = factory.Sequence(lambda n: f"education-{n}")
    title = factory.Sequence(lambda n: f"Education item {n}")
    content = "What to know."
    rationale_template = "Your utilization is {utilization_pct}."


class PartnerOfferFactory(factory.django.DjangoModelFactory[PartnerOffer]):
    class Meta:
        model = PartnerOffer

    slug = factory.Sequence(lambda n: f"offer-{n}")
    title = factory.Sequence(lambda n: f"Partner offer {n}")
    content = "What it offers."
    rationale_template = "Your utilization is {utilization_pct}."
    partner = "Example Bank"
    product_type = "balance_transfer_card"


class RecommendationFactory(UserOwnedFactory[Recommendation]):
    """A pending education item for the 30-day window."""

    class Meta:
        model = Recommendation

    type = RecommendationType.EDUCATION
    slug = factory.Sequence(lambda n: f"education-{n}")
    title = factory.Sequence(lambda n: f"Education item {n}")
    content = "What to know."
    rationale = "Your utilization is 68%."
    disclaimer = DISCLAIMER
    persona = "high_utilization"
    window = Window.DAYS_30
    # The keys every trace has; a test that reads one sets its content.
    decision_trace = factory.LazyAttribute(
        lambda rec: {
            "engine_version": "test",
            "catalog_version": "test",
            "inputs": {},
            "signals": {},
            "personas": {rec.window: {"persona": rec.persona}},
            "item": {"slug": rec.slug},
            "window": rec.window,
            "excluded_offers": [],
        }
    )


class FeedbackFactory(factory.django.DjangoModelFactory[Feedback]):
    """The recommendation's owner's rating of it."""

    class Meta:
        model = Feedback

    recommendation = factory.SubFactory(RecommendationFactory)
    user = factory.SelfAttribute("recommendation.user")
    rating = FeedbackRating.HELPFUL
