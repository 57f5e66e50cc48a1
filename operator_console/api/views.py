"""``/operator``: the review queue, decisions, edits, bulk review, analytics."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_user
from consent.api.scoping import OwnedViewSet
from operator_console import analytics, services
from operator_console.api.pagination import ReviewPagination
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
from spendsense.api.openapi import ErrorResponseSerializer, error_responses
from spendsense.api.permissions import IsOperatorOrReadOnlyAPIKey
from spendsense.api.replica import ReplicaReadsMixin
from spendsense.api.request import request_meta

OPERATORS = "Operators and admins; an API key may read (GET) only; others get 403."
RANGE = [
    OpenApiParameter("start", str, description="YYYY-MM-DD; default 29 days before end"),
    OpenApiParameter("end", str, description="YYYY-MM-DD; default today"),
]


def _decision_schema(operation_id: str, summary: str, *, again: str) -> Any:
    """Approving and rejecting follow the same rules; ``again`` names the no-op repeat."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=(
            f"Optional `reason`, kept in the audit trail. {again} one again is a no-op; 409 "
            "`already_decided` when it was decided otherwise. Operators and admins only (403)."
        ),
        request=DecisionSerializer,
        responses={200: OperatorRecommendationSerializer, **error_responses(403, 404, 409)},
    )


def _analytics_schema(
    operation_id: str,
    summary: str,
    *,
    description: str = "Over `start`..`end` inclusive (YYYY-MM-DD), by default the last 30 days. ",
) -> Any:
    """Every analytics read takes the same range and answers a JSON object."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description + OPERATORS,
        parameters=RANGE,
        responses={200: dict},
    )


@extend_schema(tags=["operator"])
@extend_schema_view(
    list=extend_schema(
        operation_id="listReviewQueue",
        summary="List recommendations for review",
        description=(
            "The queue of recommendations, newest first, in the full shape plus `user_id` and "
            "`decision_trace`; filter by `status`, `persona`, `type`, `user`, `flagged` and "
            "a created range, sort with `ordering`. " + OPERATORS
        ),
    ),
)
class ReviewViewSet(
    ReplicaReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet
):
    """The review queue. Operators and admins act; API keys may only read. Its GETs read from
    the replica when there is one (spendsense/db.py)."""

    # OwnedViewSet limits the items to what staff may reach: those of users who consent.

    queryset = Recommendation.objects.select_related("user", "approved_by").order_by("-created_at")
    serializer_class = OperatorRecommendationSerializer
    permission_classes = [IsOperatorOrReadOnlyAPIKey]
    filterset_class = ReviewFilterSet
    pagination_class = ReviewPagination
    ordering_fields = ["created_at", "score", "status", "decided_at"]

    @extend_schema(
        operation_id="getReviewItem",
        summary="Read one recommendation with its decision trace and the user's signals",
        description=(
            "What a reviewer needs to decide: the recommendation, why it was chosen "
            "(`decision_trace`), and the signals it was chosen from. " + OPERATORS
        ),
        responses={200: ReviewDetailSerializer, **error_responses(403, 404)},
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

    @_decision_schema(
        "approveRecommendation",
        "Approve a recommendation: the user sees it from now on",
        again="Approving an approved",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, "approve")

    @_decision_schema(
        "rejectRecommendation",
        "Reject a recommendation: the user never sees it",
        again="Rejecting a rejected",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, "reject")

    @extend_schema(
        operation_id="editReviewItem",
        summary="Edit a recommendation's title, content or rationale",
        description=(
            "Send the fields to change and a `reason`; the change is kept as an audited "
            "revision (`revision` counts them). Operators and admins only (403)."
        ),
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
        operation_id="bulkReview",
        summary="Approve or reject many recommendations at once",
        description=(
            "`{action, ids, reason?}`: all or nothing. 400 (naming `ids`) when any id is "
            "unknown or cannot take that decision; then nothing changed. Operators and admins "
            "only (403)."
        ),
        request=BulkSerializer,
        responses={
            200: BulkResultSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="Invalid input, or unknown or undecidable ids; nothing changed.",
            ),
            **error_responses(403),
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


@extend_schema(tags=["operator"])
class AnalyticsViewSet(ReplicaReadsMixin, viewsets.ViewSet):
    """Analytics over ``start``..``end`` (inclusive), read from the replica when there is one."""

    permission_classes = [IsOperatorOrReadOnlyAPIKey]

    @_analytics_schema(
        "getAnalytics",
        "Overview: coverage, review decisions, explainability and feedback",
        description=(
            "`start`..`end` inclusive (YYYY-MM-DD), by default the last 30 days; 400 only when "
            "a date does not parse or `start` is after `end`. "
        ),
    )
    def list(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.overview(start, end))

    @_analytics_schema(
        "getCoverageAnalytics",
        "Coverage: users with a persona and at least three detected signals",
    )
    @action(detail=False, methods=["get"])
    def coverage(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.coverage(start, end))

    @_analytics_schema(
        "getPerformanceAnalytics", "Performance: upload processing latency and the insights cache"
    )
    @action(detail=False, methods=["get"])
    def performance(self, request: Request) -> Response:
        start, end = parse_range(request.query_params)
        return Response(analytics.performance(start, end))
