"""Probe endpoints guarded by each permission class, for the role matrix."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from spendsense import urls as project_urls
from spendsense.api.permissions import IsAdmin, IsOperator, IsOperatorOrReadOnlyAPIKey


class Probe(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("probe/operator", Probe.as_view(permission_classes=[IsOperator])),
    path("probe/admin", Probe.as_view(permission_classes=[IsAdmin])),
    path("probe/operator-read", Probe.as_view(permission_classes=[IsOperatorOrReadOnlyAPIKey])),
    *project_urls.urlpatterns,
]
