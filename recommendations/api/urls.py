"""Routes of the insight and recommendation endpoints."""

from __future__ import annotations

from django.urls import path

from recommendations.api.views import RecommendationViewSet, UserInsightsViewSet

urlpatterns = [
    *[
        path(
            f"users/<str:user_id>/{name}",
            UserInsightsViewSet.as_view({"get": name}),
            name=f"user-{name}",
        )
        for name in ("profile", "signals", "persona", "recommendations")
    ],
    path(
        "recommendations/<str:pk>",
        RecommendationViewSet.as_view({"get": "retrieve"}),
        name="recommendation-detail",
    ),
    path(
        "recommendations/<str:pk>/feedback",
        RecommendationViewSet.as_view({"post": "feedback"}),
        name="recommendation-feedback",
    ),
]
