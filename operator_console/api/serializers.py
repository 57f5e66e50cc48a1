"""Shapes of /operator."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from rest_framework import serializers

from recommendations.api.serializers import OperatorRecommendationSerializer


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    content = serializers.CharField(max_length=20000, required=False)
    rationale = serializers.CharField(max_length=5000, required=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if not any(name in attrs for name in ("title", "content", "rationale")):
            raise serializers.ValidationError(
                {"title": ["Change at least one of title, content, rationale."]}
            )
        return attrs


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["approve", "reject"])
    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField()
    results = OperatorRecommendationSerializer(many=True)


class ReviewDetailSerializer(OperatorRecommendationSerializer):
    signals = serializers.DictField(read_only=True)

    class Meta(OperatorRecommendationSerializer.Meta):
        fields = [*OperatorRecommendationSerializer.Meta.fields, "signals"]
        read_only_fields = fields


class DateRangeSerializer(serializers.Serializer):
    """``start``/``end`` (YYYY-MM-DD); the last 30 days by default."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        end = attrs.get("end") or timezone.now().date()
        month = timedelta(days=29)
        start = attrs.get("start") or (end - month if end > date.min + month else date.min)
        if start > end:
            raise serializers.ValidationError({"start": ["start must not be after end."]})
        return {"start": start, "end": end}


def parse_range(query: dict) -> tuple[date, date]:
    serializer = DateRangeSerializer(data=query)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["start"], serializer.validated_data["end"]
