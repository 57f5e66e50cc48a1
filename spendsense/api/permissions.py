"""Who may do what: roles map to permissions in one table, and permission classes read it.

The same roles gate the Django admin console (``User.is_staff`` follows the role).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey


class Perm:
    READ_OWN = "read_own"  # one's own profile, data, recommendations
    READ_ANY_USER = "read_any_user"  # every user's data
    REVIEW = "review"  # approve, reject and edit recommendations; operator endpoints
    MANAGE_ROLES = "manage_roles"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_API_KEYS = "manage_api_keys"


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


def role_has(role: str | None, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role or "", frozenset())


def claims_have(claims: dict[str, Any], permission: str) -> bool:
    """Whether the roles an access token carries grant ``permission`` (before the user is
    loaded: the insight reads choose their cache entry from it)."""
    return any(role_has(role, permission) for role in claims.get("roles", []))


def user_has(request: Request, permission: str) -> bool:
    user = request.user
    return bool(
        user and user.is_authenticated and role_has(getattr(user, "role", None), permission)
    )


class IsOperator(BasePermission):
    """Operators and admins."""

    message = "This action is for operators."

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has(request, Perm.REVIEW)


class IsAdmin(BasePermission):
    """Admins only."""

    message = "This action is for admins."

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has(request, Perm.MANAGE_ROLES)


class IsOwnerOrOperator(BasePermission):
    """Signed-in callers; objects only their own, unless they may read any user's data.

    Objects name their owner in ``user_id`` (or are the user).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        owner_id = getattr(obj, "user_id", getattr(obj, "pk", None))
        return owner_id == request.user.pk or user_has(request, Perm.READ_ANY_USER)


class IsOperatorOrReadOnlyAPIKey(BasePermission):
    """Operator endpoints: operators and admins, or an API key for reading (GET, HEAD)."""

    message = "This action is for operators."
    # The methods an API key may call; the schema's security (accounts.schema) reads it too.
    api_key_methods = SAFE_METHODS

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, APIKey):
            return request.method in self.api_key_methods
        return user_has(request, Perm.REVIEW)
