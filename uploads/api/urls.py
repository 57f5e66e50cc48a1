"""Routes of /data/upload."""

from __future__ import annotations

from spendsense.api.routers import Router
from uploads.api.views import DataUploadViewSet

router = Router()
router.register("data/upload", DataUploadViewSet, basename="upload")

urlpatterns = router.urls
