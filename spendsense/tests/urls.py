"""Probe views that raise each error the API can produce, mounted only by the error tests."""

from __future__ import annotations

from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from spendsense import urls as project_urls
from spendsense.api.throttles import ScopedRateThrottle


class LineSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=4)


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    lines = LineSerializer(many=True)


class ValidateView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data)


class NeedsAuthView(APIView):
    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:  # pragma: no cover - never reached
        return Response({})


class ForbiddenView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise exceptions.PermissionDenied()


class ProbeThrottle(ScopedRateThrottle):
    THROTTLE_RATES = {"probe": "3/minute"}


class ThrottledView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ProbeThrottle]
    throttle_scope = "probe"

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class CrashView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internal detail /etc/passwd")


urlpatterns = [
    path("probe/validate", ValidateView.as_view()),
    path("probe/auth", NeedsAuthView.as_view()),
    path("probe/forbidden", ForbiddenView.as_view()),
    path("probe/throttled", ThrottledView.as_view()),
    path("probe/crash", CrashView.as_view()),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500
