"""Factories of the operator_console models."""

from __future__ import annotations

import factory

from operator_console.models import RecommendationRevision, SyntheticDemographic
from tests.support.factories.accounts import OperatorFactory, UserOwnedFactory
from tests.support.factories.recommendations import RecommendationFactory


class SyntheticDemographicFactory(UserOwnedFactory[SyntheticDemographic]):
    class Meta:
        model = SyntheticDemographic

    age_band = "25-34"
    archetype = "steady"


class RecommendationRevisionFactory(factory.django.DjangoModelFactory[RecommendationRevision]):
    """The text a recommendation had before an operator's edit."""

    class Meta:
        model = RecommendationRevision

    recommendation = factory.SubFactory(RecommendationFactory)
    revision = factory.Sequence(lambda n: n + 1)
    title = factory.SelfAttribute("recommendation.title")
    content = factory.SelfAttribute("recommendation.content")
    rationale = factory.SelfAttribute("recommendation.rationale")
    edited_by_id = factory.LazyFunction(lambda: OperatorFactory.create().pk)
