"""Routes of /data/upload."""

from __future__ import annotations

from django.urls import path

from uploads.api.views import DataUploadViewSet

collection = DataUploadViewSet.as_view({"get": "list", "post": "create"})
detail = DataUploadViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("data/upload", collection, name="upload-list"),
    path("data/upload/<uuid:upload_id>", detail, name="upload-detail"),
]
