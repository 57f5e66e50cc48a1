"""Routes of the accounts API: each feature's views (accounts/<feature>/api.py) at their paths."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.mfa.api import MfaViewSet
from accounts.oauth.api import OAuthCallbackView, OAuthViewSet
from accounts.phone.api import PhoneViewSet
from accounts.sessions.api import AuthViewSet, SessionViewSet
from accounts.users.api import EmailViewSet, MeViewSet, PasswordViewSet

router = SimpleRouter(trailing_slash=False)
router.register("auth/phone", PhoneViewSet, basename="auth-phone")
router.register("auth/mfa", MfaViewSet, basename="auth-mfa")
router.register("auth/email", EmailViewSet, basename="auth-email")
router.register("auth/password", PasswordViewSet, basename="auth-password")
router.register("auth", AuthViewSet, basename="auth")

me = MeViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

oauth_urls = [
    path("auth/oauth/exchange", OAuthViewSet.as_view({"post": "exchange"}), name="oauth-exchange"),
    path("auth/oauth/link", OAuthViewSet.as_view({"post": "link"}), name="oauth-link"),
    path(
        "auth/oauth/unlink/<str:provider>",
        OAuthViewSet.as_view({"delete": "unlink"}),
        name="oauth-unlink",
    ),
    path(
        "auth/oauth/<str:provider>/authorize",
        OAuthViewSet.as_view({"get": "authorize"}),
        name="oauth-authorize",
    ),
    path("auth/oauth/<str:provider>/callback", OAuthCallbackView.as_view(), name="oauth-callback"),
]

session_urls = [
    path(
        "auth/sessions",
        SessionViewSet.as_view({"get": "list", "delete": "destroy_others"}),
        name="auth-sessions",
    ),
    path(
        "auth/sessions/<str:pk>",
        SessionViewSet.as_view({"delete": "destroy"}),
        name="auth-session",
    ),
]

urlpatterns = [
    *oauth_urls,
    *session_urls,
    *router.urls,
    path("users/me", me, name="users-me"),
]
