"""Data the operator console owns: demographic attributes of synthetic users, for fairness
analytics only (stored apart from everything the engine reads, and never read by it), the
revisions of edited recommendations, and analytics' current-state tallies per user bucket."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spendsense.buckets import UserBucket


class SyntheticDemographic(models.Model):
    """One demographic attribute of a synthetic (seeded) user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    age_band = models.CharField(max_length=16)
    archetype = models.CharField(max_length=32, help_text="What the seed aimed for; for checks.")

    class Meta:
        # Fairness counts the rows of a few user buckets at a time (operator_console.tallies).
        indexes = [models.Index(UserBucket("user_id"), name="console_demographic_bucket")]

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


class UserTally(models.Model):
    """One figure of the users of one bucket (spendsense.buckets), as they are now: what
    ``operator_console.tallies`` counts for coverage and fairness (metric, key, value), and
    the marker ``built`` (key "", value 0: the bucket's figures are here).

    Written only by ``tallies.tallies_build``. A bucket counts from these rows while it is
    built and no :class:`UserTallyChange` names it; otherwise its figures are counted live.
    """

    bucket = models.SmallIntegerField()
    metric = models.CharField(max_length=32)
    key = models.CharField(max_length=120, blank=True, default="")
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "metric", "key"], name="console_tally_bucket_metric_key"
            )
        ]

    def __str__(self) -> str:
        return f"bucket {self.bucket} {self.metric}:{self.key} = {self.value}"


class UserTallyChange(models.Model):
    """A write that may move a figure of its bucket's users, inserted in the writer's own
    transaction (``tallies.tallies_changed``): while one exists, analytics count the bucket
    live. ``tallies_build`` deletes the rows it has seen and counts the bucket anew. Rows are
    only inserted and deleted, so writers never wait on one another or on a build."""

    id = models.BigAutoField(primary_key=True)
    bucket = models.SmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["bucket"], name="console_tally_change_bucket")]

    def __str__(self) -> str:
        return f"bucket {self.bucket} changed"
