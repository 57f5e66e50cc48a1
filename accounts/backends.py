"""Authentication backend for the admin console: permissions follow the role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from spendsense.api.permissions import OPERATOR_CONSOLE_PERMISSIONS


class RolePermissionBackend(ModelBackend):
    """Django's backend, plus the console permissions of the operator role (as data in
    ``spendsense.api.permissions``) so no group has to be set up by hand."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        permissions = set(super().get_all_permissions(user_obj, obj))
        if user_obj.is_active and getattr(user_obj, "role", None) == "operator":
            permissions |= OPERATOR_CONSOLE_PERMISSIONS
        return permissions

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return user_obj.is_active and any(
            permission.startswith(f"{app_label}.")
            for permission in self.get_all_permissions(user_obj)
        )
