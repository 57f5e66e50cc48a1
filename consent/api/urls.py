"""Routes of /consent."""

from __future__ import annotations

from consent.api.views import ConsentViewSet
from spendsense.api.routers import Router

router = Router()
router.register("consent", ConsentViewSet, basename="consent")

urlpatterns = router.urls
