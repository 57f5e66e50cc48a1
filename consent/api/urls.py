"""Routes of /consent."""

from __future__ import annotations

from django.urls import path

from consent.api.views import ConsentViewSet

consent = ConsentViewSet.as_view({"post": "create", "get": "retrieve", "delete": "destroy"})

urlpatterns = [path("consent", consent, name="consent")]
