"""Routes of /operator."""

from __future__ import annotations

from operator_console.api.views import AnalyticsViewSet, ReviewViewSet
from spendsense.api.routers import Router

router = Router(use_regex_path=True)  # the ids, as published (spendsense.api.routers)
router.register("operator/review", ReviewViewSet, basename="operator-review")
router.register("operator/analytics", AnalyticsViewSet, basename="operator-analytics")

urlpatterns = router.urls
