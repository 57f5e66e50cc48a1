"""Shapes of the insight endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from recommendations.models import FeedbackRating, Recommendation


class RecommendationSerializer(serializers.ModelSerializer):
    """A recommendation as its owner sees it."""

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "type",
            "title",
            "content",
            "rationale",
            "disclaimer",
            "persona",
            "window",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class OperatorRecommendationSerializer(RecommendationSerializer):
    """Operators also see whose it is, why it was chosen, and its review."""

    user_id = serializers.UUIDField(read_only=True)
    approved_by = serializers.UUIDField(source="approved_by_id", read_only=True, allow_null=True)

    class Meta(RecommendationSerializer.Meta):
        fields = [
            *RecommendationSerializer.Meta.fields,
            "user_id",
            "score",
            "decision_trace",
            "approved_at",
            "approved_by",
            "decided_at",
            "decision_reason",
            "flagged",
            "revision",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Feedback")  # the request body: FeedbackRequest
class FeedbackRequestSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=FeedbackRating.choices)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FeedbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recommendation_id = serializers.UUIDField()
    rating = serializers.CharField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SignalsSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    windows = serializers.DictField(child=serializers.DictField(), help_text="`30d` and `180d`.")


class PersonaWindowSerializer(serializers.Serializer):
    """The persona of one window (`30d` or `180d`) and the criteria it matched."""

    persona = serializers.CharField(allow_null=True)
    matched = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    assigned_at = serializers.DateTimeField()


class PersonaHistorySerializer(serializers.Serializer):
    window = serializers.CharField()
    persona = serializers.CharField(allow_null=True)
    assigned_at = serializers.DateTimeField()


class PersonaSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    current = serializers.DictField(
        child=PersonaWindowSerializer(), help_text="By window: `30d` and `180d`."
    )
    history = PersonaHistorySerializer(many=True)


class ProfileAccountSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    name = serializers.CharField()
    mask = serializers.CharField()
    type = serializers.CharField()
    subtype = serializers.CharField()
    current = serializers.CharField(allow_null=True)
    available = serializers.CharField(allow_null=True)
    limit = serializers.CharField(allow_null=True)
    currency = serializers.CharField()


class ProfileSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    as_of = serializers.DateField(allow_null=True)
    consent = serializers.DictField()
    personas = serializers.DictField(child=serializers.CharField(allow_null=True))
    detected_signals = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )
    accounts = ProfileAccountSerializer(many=True)
    transaction_count = serializers.IntegerField()
    upload_count = serializers.IntegerField()


class RecommendationPageSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RecommendationSerializer(many=True)
