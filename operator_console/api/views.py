"""``/operator``: the review queue, decisions, edits, bulk review, analytics."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_user
from consent.api.scoping import OwnedViewSet
from operator_console import analytics, services
from operator_console.api.serializers import (
    BulkResultSerializer,
    BulkSerializer,
    DecisionSerializer,
    EditSerializer,
    ReviewDetailSerializer,
    parse_range,
)
from operator_console.filters import ReviewFilterSet
from recommendations.api.serializers import OperatorRecommendationSerializer
from recommendations.models import Recommendation
from recommendations.selectors import signals_get
from spendsense.api.openapi import error_responses
from spendsense.api.permissions import IsOperatorOrReadOnlyAPIKey
from spendsense.api.request import request_meta

RANGE = [
    OpenApiParameter("start", str, description="YYYY-MM-DD; default 29 days before end"),
    OpenApiParameter("end", str, description="YYYY-MM-DD; default today"),
]


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    """The review queue. Operators and admins act; API keys may only read."""

    # OwnedViewSet limits the items to what staff may reach: those of users who consent.

    queryset = Recommendation.objects.select_related("user", "approved_by").order_by("-created_at")
    serializer_class = OperatorRecommendationSerializer
    permission_classes = [IsOperatorOrReadOnlyAPIKey]
    filterset_class = ReviewFilterSet
    ordering_fields = ["created_at", "score", "status", "decided_at"]

    @extend_schema(tags=["operator"])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=["operator"], responses={200: ReviewDetailSerializer, **error_responses(403, 404)}
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        recommendation = self.get_object()
        body = dict(OperatorRecommendationSerializer(recommendation).data)
        body["signals"] = signals_get(user_id=recommendation.user_id)
        return Response(body)

    def _decide(self, request: Request, decision: str) -> Response:
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recommendation = services.recommendation_decide(
            recommendation=self.get_object(),
            action=decision,
            actor=request_user(request),
            reason=data.validated_data["reason"],
            meta=request_meta(request),
        )
        return Response(OperatorRecommendationSerializer(recommendation).data)

    @extend_schema(
        tags=["operator"],
        request=DecisionSerializer,
        responses={200: OperatorRecommendationSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, "approve")

    @extend_schema(
        tags=["operator"],
        request=DecisionSerializer,
        responses={200: OperatorRecommendationSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, "reject")

    @extend_schema(
        tags=["operator"],
        request=EditSerializer,
        responses={200: OperatorRecommendationSerializer, **error_responses(403, 404)},
    )
    def update(self, request: Request, pk: str) -> Response:
        data = EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k in services.EDITABLE}
        recommendation = services.recommendation_edit(
            recommendation=self.get_object(),
            actor=request_user(request),
            changes=changes,
            reason=data.validated_data["reason"],
            meta=request_meta(request),
        )
        return Response(OperatorRecommendationSerializer(recommendation).data)

    @extend_schema(
        tags=["operator"],
        request=BulkSerializer,
        responses={
            200: BulkResultSerializer,
            400: OpenApiResponse(description="Unknown or undecidable ids; nothing changed."),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        data = BulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = services.recommendations_bulk_decide(
            ids=data.validated_data["ids"],
            action=data.validated_data["action"],
            actor=request_user(request),
            reason=data.validated_data["reason"],
            meta=request_meta(request),
        )
        return Response(
            {
                "action": data.validated_data["action"],
                "count": len(results),
                "results": OperatorRecommendationSerializer(results, many=True).data,
            }
        )


class AnalyticsViewSet(viewsets.ViewSet):
    """Analytics over ``start``..``end`` (inclusive)."""

    permission_classes = [IsOperatorOrReadOnlyAPIKey]

    @extend_schema(tags=["operator"], parameters=RANGE, responses={200: dict})
    def list(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.overview(start, end))

    @extend_schema(tags=["operator"], parameters=RANGE, responses={200: dict})
    @action(detail=False, methods=["get"])
    def coverage(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.coverage(start, end))

    @extend_schema(tags=["operator"], parameters=RANGE, responses={200: dict})
    @action(detail=False, methods=["get"])
    def performance(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.performance(start, end))
