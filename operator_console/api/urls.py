"""Routes of /operator."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from operator_console.api.views import AnalyticsViewSet, ReviewViewSet

router = SimpleRouter(trailing_slash=False)
router.register("operator/review", ReviewViewSet, basename="operator-review")
router.register("operator/analytics", AnalyticsViewSet, basename="operator-analytics")

urlpatterns = router.urls
