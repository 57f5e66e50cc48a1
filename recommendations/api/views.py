"""``/users/{user_id}/profile|signals|persona|recommendations`` and ``/recommendations/*``.

Over 400 lines on purpose: most of it is each operation's OpenAPI description and examples,
written beside the view they document (STYLE.md, rule 4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_user
from accounts.models import User
from consent.api.scoping import OwnedViewSet
from recommendations import selectors, services
from recommendations.api.serializers import (
    FeedbackRequestSerializer,
    FeedbackSerializer,
    OperatorRecommendationSerializer,
    PersonaSerializer,
    ProfileSerializer,
    RecommendationPageSerializer,
    RecommendationSerializer,
    SignalsSerializer,
)
from recommendations.cache import body_prefetch, cached_body, recommendations_cache_name
from recommendations.models import Recommendation, RecommendationStatus
from spendsense.api.idempotency import idempotency_key
from spendsense.api.openapi import error_example, error_responses, response_example
from spendsense.api.pagination import PageNumberPagination
from spendsense.api.permissions import Perm, may, request_caller
from spendsense.api.responses import RenderedJSONResponse
from spendsense.redis import Batch, request_batch
from uploads.models import Account, DataUpload, Transaction

USER_ID = OpenApiParameter(
    "user_id", str, OpenApiParameter.PATH, description="A user id (UUID), or `me` for the caller."
)
# The four reads answer the same errors: the user's consent is missing (403), or the path
# names a user the caller may not read (404, never 403: their existence is not disclosed).
INSIGHT_ERRORS = error_responses(
    403,
    404,
    s403="`consent_required`: grant consent (POST /api/v1/consent), then read again.",
    s404="No such user, or one the caller may not read.",
)
INSIGHT_ERROR_EXAMPLES = [
    error_example(
        "No consent",
        403,
        "consent_required",
        "Consent is required: grant it with POST /api/v1/consent before uploading data or "
        "reading insights.",
    ),
    error_example("Not yours", 404, "not_found", "Not found."),
]
_AS_OF_NULL = (
    " With consent but no processed upload yet, the answer is 200 with `as_of: null`: upload "
    "data (POST /api/v1/data/upload) and read again once the upload is `processed`."
)


def _insight_read(
    *,
    operation_id: str,
    summary: str,
    description: str,
    answer: type,
    example: OpenApiExample,
    parameters: list[OpenApiParameter] | None = None,
) -> Any:
    """The four reads of a user's insights take the user in the path, answer the same errors
    and say the same of a user with no processed upload yet."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description + _AS_OF_NULL,
        parameters=[USER_ID, *(parameters or [])],
        responses={200: answer, **INSIGHT_ERRORS},
        examples=[example, *INSIGHT_ERROR_EXAMPLES],
    )


def _version(user: User) -> int | None:
    """The user's cache version when authentication already read it (the caller's own)."""
    return getattr(user, "insights_cache_version", None)


def _profile(user: User) -> dict[str, Any]:
    signals = selectors.signals_get(user_id=user.id)
    persona = selectors.persona_get(user_id=user.id)
    return {
        "user_id": str(user.id),
        "as_of": signals["as_of"],
        "consent": {"status": user.consent_status, "version": user.consent_version},
        "personas": {w: c["persona"] for w, c in persona["current"].items()},
        "detected_signals": {w: data.get("detected", []) for w, data in signals["windows"].items()},
        "accounts": [
            {
                "account_id": a.account_id,
                "name": a.name,
                "mask": a.mask,
                "type": a.type,
                "subtype": a.subtype,
                "current": str(a.current) if a.current is not None else None,
                "available": str(a.available) if a.available is not None else None,
                "limit": str(a.limit) if a.limit is not None else None,
                "currency": a.iso_currency_code or a.unofficial_currency_code,
            }
            for a in Account.objects.filter(user=user).order_by("type", "name")
        ],
        "transaction_count": Transaction.objects.filter(user=user).count(),
        "upload_count": DataUpload.objects.filter(user=user).count(),
    }


def _cached(request: Request, user: User, name: str, build: Callable[[], Any]) -> HttpResponse:
    """The user's cached body ``name`` (built by ``build`` on a miss), as the response."""
    return RenderedJSONResponse(
        cached_body(
            user_id=user.id,
            version=_version(user),
            name=name,
            batch=request_batch(request),
            build=build,
        )
    )


def _recommendations_query(request: Request, *, operator: bool) -> tuple[list[str], str]:
    """The statuses a recommendations read lists, and its cache name (one per distinct
    answer: statuses, role and page)."""
    wanted = request.query_params.get("status")
    if wanted is not None and wanted not in RecommendationStatus.values:
        raise exceptions.ValidationError(
            {"status": [f"Choose one of {', '.join(RecommendationStatus.values)}."]}
        )
    statuses = selectors.recommendation_statuses(operator=operator, wanted=wanted)
    return statuses, recommendations_cache_name(
        statuses=statuses,
        operator=operator,
        page=request.query_params.get("page"),
        page_size=request.query_params.get("page_size"),
    )


@extend_schema(tags=["insights"])
class UserInsightsViewSet(OwnedViewSet):
    """A user's insights. Owner or operator; the user's consent is required."""

    owner_field = None  # the path names the user: ``me`` or an id
    lookup_url_kwarg = "user_id"
    consent_required_for = ("profile", "signals", "persona", "recommendations")

    def cache_prefetch(self, request: Request, claims: dict[str, Any], batch: Batch) -> None:
        """Called by authentication: a caller reading their own insights gets the cached
        body in the token checks' round trip (see recommendations.cache.cached_body)."""
        user_id = claims["sub"]
        if self.kwargs.get("user_id") not in ("me", user_id):
            return
        if self.action in ("profile", "signals", "persona"):
            body_prefetch(batch, user_id=user_id, name=self.action)
        elif self.action == "recommendations":
            operator = may(claims, Perm.READ_ANY_USER)
            try:
                _, name = _recommendations_query(request, operator=operator)
            except exceptions.ValidationError:
                return  # the view answers 400
            body_prefetch(batch, user_id=user_id, name=name)

    @_insight_read(
        operation_id="getProfile",
        summary="Read a user's profile: accounts, personas and detected signals",
        description=(
            "The user's accounts (balances as decimal strings), the persona of each window, "
            "the signals detected in each, and how much data is behind them. Your own with "
            "`me`; operators and admins may read anyone's."
        ),
        answer=ProfileSerializer,
        example=response_example(
            "Profile",
            {
                "user_id": "0b7c6f1e-5d0c-4f4e-9a51-3f8e2b1c9d10",
                "as_of": "2026-11-30",
                "consent": {"status": "granted", "version": "2025-01"},
                "personas": {"30d": "high_utilization", "180d": "high_utilization"},
                "detected_signals": {"30d": ["credit_utilization"], "180d": ["subscriptions"]},
                "accounts": [
                    {
                        "account_id": "BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp",
                        "name": "Plaid Credit Card",
                        "mask": "3333",
                        "type": "credit",
                        "subtype": "credit card",
                        "current": "410.00",
                        "available": None,
                        "limit": "2000.00",
                        "currency": "USD",
                    }
                ],
                "transaction_count": 412,
                "upload_count": 1,
            },
            200,
        ),
    )
    @action(detail=True, methods=["get"])
    def profile(self, request: Request, user_id: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "profile", lambda: _profile(user))

    @_insight_read(
        operation_id="getSignals",
        summary="Read a user's behavioural signals over 30 and 180 days",
        description=(
            "Subscriptions, savings, credit utilisation and income stability, computed over "
            "the last 30 and 180 days of the user's data; `detected` lists the signals that "
            "fired in each window. Your own with `me`; operators may read anyone's."
        ),
        answer=SignalsSerializer,
        example=response_example("No data yet", {"as_of": None, "windows": {}}, 200),
    )
    @action(detail=True, methods=["get"])
    def signals(self, request: Request, user_id: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "signals", lambda: selectors.signals_get(user_id=user.id))

    @_insight_read(
        operation_id="getPersona",
        summary="Read a user's persona for each window, and its history",
        description=(
            "The persona assigned for each window (`30d`, `180d`), the criteria it matched "
            "and why, plus earlier assignments. `persona` is null when no persona's criteria "
            "match. Your own with `me`; operators may read anyone's."
        ),
        answer=PersonaSerializer,
        example=response_example(
            "Persona",
            {
                "as_of": "2026-11-30",
                "current": {
                    "30d": {
                        "persona": "high_utilization",
                        "matched": ["high_utilization", "subscription_heavy"],
                        "reason": (
                            "high_utilization ranks first of the matches (high_utilization, "
                            "subscription_heavy) in the priority order."
                        ),
                        "assigned_at": "2026-11-30T12:00:00Z",
                    }
                },
                "history": [
                    {
                        "window": "30d",
                        "persona": "high_utilization",
                        "assigned_at": "2026-11-30T12:00:00Z",
                    }
                ],
            },
            200,
        ),
    )
    @action(detail=True, methods=["get"])
    def persona(self, request: Request, user_id: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "persona", lambda: selectors.persona_get(user_id=user.id))

    @_insight_read(
        operation_id="listUserRecommendations",
        summary="List a user's recommendations (approved ones, for the user)",
        description=(
            "Education items and partner offers chosen for the user, each with a rationale "
            "citing their own numbers and a disclaimer; paginated with `page` and `page_size`. "
            "A user sees only those an operator approved; operators see every status and may "
            "filter by `status`. Read one with GET /api/v1/recommendations/{id}."
        ),
        parameters=[
            OpenApiParameter(
                "status", str, enum=RecommendationStatus.values, description="Operators only."
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        answer=RecommendationPageSerializer,
        example=response_example(
            "Recommendations",
            {
                "as_of": "2026-11-30",
                "count": 1,
                "next": None,
                "previous": None,
                "results": [
                    {
                        "id": "5f0f3c52-8f7e-4a57-9d43-0d8d1f6b2a11",
                        "type": "partner_offer",
                        "title": "Budgeting app, free for 3 months",
                        "content": "See where each dollar goes as it happens ...",
                        "rationale": (
                            "Your spending averaged $72.10 a month over the last 30 days. A "
                            "budgeting app can show where each dollar goes as it happens."
                        ),
                        "disclaimer": (
                            "This is educational content, not financial advice. Consult a "
                            "licensed advisor for personalized guidance."
                        ),
                        "persona": "high_utilization",
                        "window": "30d",
                        "status": "approved",
                        "created_at": "2026-11-30T12:00:00Z",
                    }
                ],
            },
            200,
        ),
    )
    @action(detail=True, methods=["get"])
    def recommendations(self, request: Request, user_id: str) -> HttpResponse:
        user = self.get_object()
        operator = may(request_caller(request), Perm.READ_ANY_USER)
        statuses, name = _recommendations_query(request, operator=operator)

        def build() -> dict[str, Any]:
            paginator = PageNumberPagination()
            queryset = selectors.recommendations_for(user_id=user.id, statuses=statuses)
            page = paginator.paginate_queryset(queryset, request, view=self) or []
            serializer = OperatorRecommendationSerializer if operator else RecommendationSerializer
            body = paginator.get_paginated_response(serializer(page, many=True).data).data
            return {"as_of": selectors.signals_get(user_id=user.id)["as_of"], **body}

        return _cached(request, user, name, build)


@extend_schema(tags=["recommendations"])
class RecommendationViewSet(OwnedViewSet):
    """One recommendation, and feedback on it."""

    queryset = Recommendation.objects.select_related("user")
    consent_required_for = ("retrieve", "feedback")
    filter_backends = ()

    def scope_queryset(self, queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
        """People see their approved items; operators any item (of a consenting user)."""
        if may(request_caller(self.request), Perm.READ_ANY_USER):
            return queryset
        return queryset.filter(status=RecommendationStatus.APPROVED)

    @extend_schema(
        operation_id="getRecommendation",
        summary="Read one recommendation",
        description=(
            "One recommendation with its rationale and disclaimer. A user reads their own "
            "approved ones (another user's, or one still in review, is a 404); operators read "
            "any, with its decision trace and review fields."
        ),
        responses={200: RecommendationSerializer, **error_responses(403, 404)},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        recommendation = self.get_object()
        serializer = (
            OperatorRecommendationSerializer
            if may(request_caller(request), Perm.READ_ANY_USER)
            else RecommendationSerializer
        )
        return Response(serializer(recommendation).data)

    @extend_schema(
        operation_id="giveRecommendationFeedback",
        summary="Rate a recommendation helpful or not",
        description=(
            "Records the caller's rating (and optional comment) of one of their recommendations: "
            "201 the first time, 200 when it replaces an earlier rating. Send an "
            "`Idempotency-Key` to retry safely: the same key with the same body replays the "
            "first answer; with another body it is a 409."
        ),
        request=FeedbackRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string per intended write; a retry reuses it.",
            )
        ],
        responses={
            201: FeedbackSerializer,
            200: FeedbackSerializer,
            **error_responses(403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request: Request, pk: str) -> Response:
        recommendation = self.get_object()
        data = FeedbackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        feedback, created = services.feedback_record(
            user=request_user(request),
            recommendation=recommendation,
            rating=data.validated_data["rating"],
            comment=data.validated_data["comment"],
            idempotency_key=idempotency_key(request),
        )
        body = FeedbackSerializer(
            {
                "id": feedback.pk,
                "recommendation_id": recommendation.pk,
                "rating": feedback.rating,
                "comment": feedback.comment,
                "created_at": feedback.created_at,
                "updated_at": feedback.updated_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
