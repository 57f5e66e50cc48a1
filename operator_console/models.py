"""Data the operator console owns: demographic attributes of synthetic users, for fairness
analytics only. Stored apart from everything the engine reads, and never read by it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SyntheticDemographic(models.Model):
    """One demographic attribute of a synthetic (seeded) user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    age_band = models.CharField(max_length=16)
    archetype = models.CharField(max_length=32, help_text="What the seed aimed for; for checks.")

    def __str__(self) -> str:
        return f"{self.age_band} ({self.user_id})"


class RecommendationRevision(models.Model):
    """The text of a recommendation before an operator edited it (an audited revision)."""

    recommendation = models.ForeignKey(
        "recommendations.Recommendation", on_delete=models.CASCADE, related_name="revisions"
    )
    revision = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField()
    rationale = models.TextField()
    edited_by_id = models.UUIDField()
    reason = models.TextField(blank=True, default="")
    edited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revision"]

    def __str__(self) -> str:
        return f"revision {self.revision} of {self.recommendation_id}"
