"""What the engine derives per user (signals, personas, recommendations, feedback) and the
content catalog operators edit (education items, partner offers)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from spendsense.buckets import UserBucket
from spendsense.fields import DocumentField


class Window(models.TextChoices):
    DAYS_30 = "30d", "30 days"
    DAYS_180 = "180d", "180 days"


class SignalSnapshot(models.Model):
    """The latest signals of one user for one window, with all their evidence."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signal_snapshots"
    )
    window = models.CharField(max_length=8, choices=Window.choices)
    as_of = models.DateField()
    data = DocumentField()
    inputs = DocumentField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "window"], name="recs_signal_user_window")
        ]

    def __str__(self) -> str:
        return f"signals {self.window} of {self.user_id} as of {self.as_of}"


class PersonaAssignment(models.Model):
    """A persona given to a user for a window; a new row only when it changes (history)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personas"
    )
    window = models.CharField(max_length=8, choices=Window.choices)
    persona = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 (null = none matched)
    matched = DocumentField(default=list)
    evaluations = DocumentField(default=list)
    reason = models.CharField(max_length=255, blank=True, default="")
    as_of = models.DateField()
    assigned_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "window", "-assigned_at"]),
            # The live part of the persona mix over time (operator_console.analytics).
            models.Index(fields=["window", "assigned_at"], name="recs_persona_window_at"),
        ]
        ordering = ["-assigned_at", "-id"]

    def __str__(self) -> str:
        return f"{self.persona} ({self.window}) for {self.user_id}"


class CatalogEntry(models.Model):
    """Common fields of education items and partner offers.

    ``rationale_template`` is a Python format string over the user's figures (see
    ``recommendations.engine.choose.rationale_context``); an item whose figures a user lacks
    is never recommended to them.
    """

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    content = models.TextField()
    rationale_template = models.TextField()
    personas = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Facts (tags) the rationale states as true: all must hold in the window it cites.
    requires = models.JSONField(default=list, blank=True)
    priority = models.SmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title


class EducationItem(CatalogEntry):
    """An article or guide."""


class PartnerOffer(CatalogEntry):
    """A partner's product, offered only to users who pass its eligibility rules."""

    partner = models.CharField(max_length=120)
    product_type = models.CharField(max_length=40)
    # {"min_monthly_income": 2000, "max_utilization": 0.9, "requires_card": true,
    #  "exclude_if_has_subtypes": ["savings"]}
    eligibility = models.JSONField(default=dict, blank=True)
    # Predatory products (payday loans, ...) may sit in the catalog but are never offered.
    predatory = models.BooleanField(default=False)


class RecommendationType(models.TextChoices):
    EDUCATION = "education", "Education"
    PARTNER_OFFER = "partner_offer", "Partner offer"


class RecommendationStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Recommendation(models.Model):
    """One item recommended to one user, with why (rationale, decision trace) and its review."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations"
    )
    type = models.CharField(max_length=16, choices=RecommendationType.choices)
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    content = models.TextField()
    rationale = models.TextField()
    disclaimer = models.TextField()
    persona = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    window = models.CharField(max_length=8, choices=Window.choices)
    score = models.SmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.PENDING
    )
    decision_trace = DocumentField(default=dict)
    # Of what the engine derived for this row (type through decision_trace): a recompute keeps
    # a pending row that already stores what it derived. Edits and flags are not in it.
    digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")
    flagged = models.BooleanField(default=False)
    revision = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-score", "created_at"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "-created_at"]),
            # The review queue's other filters, each with its newest-first order.
            models.Index(fields=["persona", "-created_at"], name="recs_rec_persona_created"),
            models.Index(fields=["type", "-created_at"], name="recs_rec_type_created"),
            # The queue sorted by score (`?ordering=-score`): read in order, not a sort of all.
            models.Index(fields=["score"], name="recs_rec_score"),
            models.Index(
                fields=["-created_at"],
                condition=models.Q(flagged=True),
                name="recs_rec_flagged_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} for {self.user_id} ({self.status})"


class FeedbackRating(models.TextChoices):
    HELPFUL = "helpful", "Helpful"
    NOT_HELPFUL = "not_helpful", "Not helpful"


class Feedback(models.Model):
    """A user's rating of a recommendation: one per user and item, updatable."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="feedback"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.CharField(max_length=16, choices=FeedbackRating.choices)
    comment = models.TextField(blank=True, default="", max_length=2000)
    # The Idempotency-Key of the request that last wrote this rating, if it sent one: a retry
    # with it gets this rating back, with the status of the first answer (201 when that request
    # created the rating). The unique constraint keeps the write itself idempotent.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    created_by_key = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "user"], name="recs_feedback_one_per_user"
            )
        ]
        # Feedback over a date range (operator_console.analytics).
        indexes = [models.Index(fields=["created_at"], name="recs_feedback_created")]

    def __str__(self) -> str:
        return f"{self.rating} on {self.recommendation_id}"


class UserInsightState(models.Model):
    """One row per user: what the engine holds about them *now*, narrow enough that analytics
    aggregate it in SQL (recommendations.state keeps it; nothing else writes it).

    Written by every recompute inside its write transaction, removed by erasure, rebuilt
    set-based by ``manage.py analytics_rebuild``. No consent flag: readers join through
    ``consent.selectors.visible_to_staff``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="insight_state",
    )
    # The latest persona assignment per window (null: none matched, or never assigned).
    persona_30d = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    persona_180d = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    # A 30-day signal snapshot exists (the user has data with a date).
    has_data = models.BooleanField(default=False)
    # The 30-day window's detected signal groups: how many, and which.
    detected_count = models.PositiveSmallIntegerField(default=0)
    detects_subscriptions = models.BooleanField(default=False)
    detects_savings = models.BooleanField(default=False)
    detects_credit = models.BooleanField(default=False)
    detects_income = models.BooleanField(default=False)
    # Any partner offer was ever recommended to the user (any status).
    has_offer = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        # Analytics count the rows of a few user buckets at a time (operator_console.tallies).
        # Not partial: the planner reads its statistics when it plans a count by bucket.
        indexes = [models.Index(UserBucket("user_id"), name="recs_state_bucket")]

    def __str__(self) -> str:
        return f"insight state of {self.user_id}"


class DailyRollup(models.Model):
    """One figure of one closed day, counted over the users staff may see (a later write that
    changes it adds a :class:`RollupDelta`; reads sum both):
    ``persona`` (30-day assignments by persona), ``upload_status`` (uploads created that day
    by status), ``latency`` (processed uploads by latency bucket, see
    recommendations.state.LATENCY_GAMMA), ``recommendation`` (recommendations created that
    day: one key per figure of recommendations.state.recommendation_counts), ``feedback``
    (ratings given that day, by rating) and the marker ``built`` (the day is rolled up).

    Written by the beat task ``operator_console.rollup_analytics`` (which also folds the
    deltas in) and by ``analytics_rebuild``. A day with an upload still in flight is not
    built: analytics count it live.
    """

    day = models.DateField()
    metric = models.CharField(max_length=16)
    key = models.CharField(max_length=40, blank=True, default="")
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "day", "key"], name="recs_rollup_metric_day")
        ]
        # A build deletes the rows of a range of days, whatever the figure.
        indexes = [models.Index(fields=["day"], name="recs_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}:{self.key} = {self.value}"


class RollupDelta(models.Model):
    """A signed change of one :class:`DailyRollup` figure of a built day, appended by the write
    that caused it, in its transaction (recommendations.state.rollups_follow): the figures of
    the rows it changes, negated before the change and positive after. Reads add them to the
    rollups; the beat task folds them in and a rebuild of the day deletes them."""

    day = models.DateField()
    metric = models.CharField(max_length=16)
    key = models.CharField(max_length=40, blank=True, default="")
    value = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["metric", "day"], name="recs_delta_metric_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}:{self.key} {self.value:+d}"
