"""Reads of the operator console: what staff may review."""

from __future__ import annotations

from django.db.models import QuerySet

from consent.selectors import visible_to_staff
from recommendations.models import Recommendation


def review_items() -> QuerySet[Recommendation]:
    """Every recommendation staff may see and decide: those of users who consent. A user who
    withdraws consent drops out of the queue, and their items answer 404."""
    return visible_to_staff(Recommendation.objects.all())
