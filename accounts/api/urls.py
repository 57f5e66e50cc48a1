"""Routes of the accounts API."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.mfa import MfaViewSet
from accounts.api.phone import PhoneViewSet
from accounts.api.views import AuthViewSet, MeViewSet

router = SimpleRouter(trailing_slash=False)
router.register("auth/phone", PhoneViewSet, basename="auth-phone")
router.register("auth/mfa", MfaViewSet, basename="auth-mfa")
router.register("auth", AuthViewSet, basename="auth")

me = MeViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [*router.urls, path("users/me", me, name="users-me")]
