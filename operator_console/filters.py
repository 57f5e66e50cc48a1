"""Filters of the review queue."""

from __future__ import annotations

import django_filters

from recommendations.engine.personas import PRIORITY
from recommendations.models import Recommendation, RecommendationStatus, RecommendationType


class ReviewFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RecommendationStatus.choices)
    persona = django_filters.ChoiceFilter(choices=[(p, p) for p in PRIORITY])
    type = django_filters.ChoiceFilter(choices=RecommendationType.choices)
    user = django_filters.UUIDFilter(field_name="user_id")
    flagged = django_filters.BooleanFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Recommendation
        fields = ["status", "persona", "type", "user", "flagged", "created_after", "created_before"]
