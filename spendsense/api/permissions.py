"""Who may do what: roles map to permissions in one table, and permission classes read it.

The same roles gate the Django admin console (``User.is_staff`` follows the role).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework_api_key.models import AbstractAPIKey


class Perm:
    READ_OWN = "read_own"  # one's own profile, data, recommendations
    READ_ANY_USER = "read_any_user"  # every user's data
    REVIEW = "review"  # approve, reject and edit recommendations; operator endpoints
    MANAGE_ROLES = "manage_roles"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_API_KEYS = "manage_api_keys"


# API keys are no one's account: they read what operators read (consenting users' data, on
# the operator endpoints, GET only: IsOperatorOrReadOnlyAPIKey).
API_KEY_ROLE = "api_key"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "user": frozenset({Perm.READ_OWN}),
    "operator": frozenset({Perm.READ_OWN, Perm.READ_ANY_USER, Perm.REVIEW}),
    "admin": frozenset(
        {
            Perm.READ_OWN,
            Perm.READ_ANY_USER,
            Perm.REVIEW,
            Perm.MANAGE_ROLES,
            Perm.MANAGE_CATALOG,
            Perm.MANAGE_API_KEYS,
        }
    ),
    API_KEY_ROLE: frozenset({Perm.READ_ANY_USER}),
}


# What operators may do in the Django admin console (admins are superusers there).
OPERATOR_CONSOLE_PERMISSIONS: frozenset[str] = frozenset(
    {
        "recommendations.view_recommendation",
        "recommendations.change_recommendation",
        "recommendations.view_signalsnapshot",
        "recommendations.view_personaassignment",
        "recommendations.view_feedback",
        "recommendations.view_educationitem",
        "recommendations.view_partneroffer",
        "accounts.view_user",
        "accounts.view_auditevent",
        "uploads.view_dataupload",
        "operator_console.view_recommendationrevision",
    }
)


def may(caller: Any, permission: str) -> bool:
    """The one question of the table: whether ``caller`` holds ``permission``.

    ``caller`` is whoever authentication found: a user (their role), an API key, or an access
    token's verified claims (their ``roles``: the cached reads ask before the user is loaded,
    then ask again of the user). Anyone else (anonymous, None) holds nothing.
    """
    if isinstance(caller, Mapping):
        roles = caller.get("roles", [])
    elif isinstance(caller, AbstractAPIKey):
        roles = [API_KEY_ROLE]
    elif caller is not None and caller.is_authenticated:
        roles = [caller.role]
    else:
        roles = []
    return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in roles)


def request_caller(request: Request) -> Any:
    """Who is calling: the API key when one authenticated the request, else the user (who may
    be anonymous)."""
    return request.auth if isinstance(request.auth, AbstractAPIKey) else request.user


class IsOperator(BasePermission):
    """Operators and admins."""

    message = "This action is for operators."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may(request_caller(request), Perm.REVIEW)


class IsAdmin(BasePermission):
    """Admins only."""

    message = "This action is for admins."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may(request_caller(request), Perm.MANAGE_ROLES)


class IsSignedIn(BasePermission):
    """A signed-in person; an API key (no one's account) gets 403. The same test as DRF's
    IsAuthenticated, which the schema generator takes to answer only 401: views over rows an
    API key may not reach use this one, so their 403 is documented."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


class IsOperatorOrReadOnlyAPIKey(BasePermission):
    """Operator endpoints: operators and admins, or an API key for reading (GET, HEAD)."""

    message = "This action is for operators."
    # The methods an API key may call; the schema's security (accounts.schema) reads it too.
    api_key_methods = SAFE_METHODS

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request_caller(request)
        if isinstance(caller, AbstractAPIKey):
            return request.method in self.api_key_methods and may(caller, Perm.READ_ANY_USER)
        return may(caller, Perm.REVIEW)
