"""Root URLs: the versioned API, its schema and docs, health, and the operator console."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.sessions.api import JWKSView
from spendsense.api.views import ApiNotFoundView, HealthView, ReadyView

# The insight reads come first: they are the hot path, and Django tries patterns in order.
# (No pattern of one app shadows another's: each app owns its own path prefixes.)
api_v1 = [
    path("", include("recommendations.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("consent.api.urls")),
    path("", include("uploads.api.urls")),
    path("", include("operator_console.api.urls")),
]

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("ready", ReadyView.as_view(), name="ready"),
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include(api_v1)),
    # Anything else under /api/ is a JSON 404, DEBUG or not.
    re_path(r"^api(?:/.*)?$", ApiNotFoundView.as_view()),
    path("admin/", admin.site.urls),
]

handler400 = "spendsense.api.errors.bad_request"
handler403 = "spendsense.api.errors.permission_denied"
handler404 = "spendsense.api.errors.not_found"
handler500 = "spendsense.api.errors.server_error"
