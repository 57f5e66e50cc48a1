"""Routes of the insight and recommendation endpoints."""

from __future__ import annotations

from recommendations.api.views import RecommendationViewSet, UserInsightsViewSet
from spendsense.api.routers import Router

router = Router()
router.register("users", UserInsightsViewSet, basename="user")
router.register("recommendations", RecommendationViewSet, basename="recommendation")

urlpatterns = router.urls
