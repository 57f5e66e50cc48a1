"""``/users/{user_id}/profile|signals|persona|recommendations`` and ``/recommendations/*``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
from spendsense.api.openapi import error_responses
from spendsense.api.pagination import PageNumberPagination
from spendsense.api.permissions import Perm, may, request_caller
from spendsense.api.responses import RenderedJSONResponse
from spendsense.redis import Batch, request_batch
from uploads.models import Account, DataUpload, Transaction

USER_ID = OpenApiParameter("user_id", str, OpenApiParameter.PATH, description="A user id, or `me`.")


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


class UserInsightsViewSet(OwnedViewSet):
    """A user's insights. Owner or operator; the user's consent is required."""

    owner_field = None  # the path names the user: ``me`` or an id
    consent_required_for = ("profile", "signals", "persona", "recommendations")

    def cache_prefetch(self, request: Request, claims: dict[str, Any], batch: Batch) -> None:
        """Called by authentication: a caller reading their own insights gets the cached
        body in the token checks' round trip (see recommendations.cache.cached_body)."""
        user_id = claims["sub"]
        if self.kwargs.get("pk") not in ("me", user_id):
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

    @extend_schema(
        tags=["insights"],
        parameters=[USER_ID],
        responses={200: ProfileSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def profile(self, request: Request, pk: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "profile", lambda: _profile(user))

    @extend_schema(
        tags=["insights"],
        parameters=[USER_ID],
        responses={200: SignalsSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def signals(self, request: Request, pk: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "signals", lambda: selectors.signals_get(user_id=user.id))

    @extend_schema(
        tags=["insights"],
        parameters=[USER_ID],
        responses={200: PersonaSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def persona(self, request: Request, pk: str) -> HttpResponse:
        user = self.get_object()
        return _cached(request, user, "persona", lambda: selectors.persona_get(user_id=user.id))

    @extend_schema(
        tags=["insights"],
        parameters=[
            USER_ID,
            OpenApiParameter(
                "status", str, enum=RecommendationStatus.values, description="Operators only."
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: RecommendationPageSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def recommendations(self, request: Request, pk: str) -> HttpResponse:
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
        tags=["recommendations"],
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
        tags=["recommendations"],
        request=FeedbackRequestSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
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
