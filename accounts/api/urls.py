"""Routes of the accounts API: each feature's views (accounts/<feature>/api.py) at their paths.

The viewsets are registered on the API's one Router (spendsense.api.routers), as in every
app; OAuth's and the sessions' paths are written out because a router does not make their
shapes (the provider before the action; DELETE on the collection itself)."""

from __future__ import annotations

from django.urls import path

from accounts.mfa.api import MfaViewSet
from accounts.oauth.api import OAuthCallbackView, OAuthViewSet
from accounts.phone.api import PhoneViewSet
from accounts.sessions.api import AuthViewSet, SessionViewSet
from accounts.users.api import EmailViewSet, MeViewSet, PasswordViewSet
from spendsense.api.routers import Router

router = Router()
router.register("auth/phone", PhoneViewSet, basename="auth-phone")
router.register("auth/mfa", MfaViewSet, basename="auth-mfa")
router.register("auth/email", EmailViewSet, basename="auth-email")
router.register("auth/password", PasswordViewSet, basename="auth-password")
router.register("auth", AuthViewSet, basename="auth")
router.register("users/me", MeViewSet, basename="users-me")

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
]
