"""Ownership, enforced once: every queryset is limited to the caller's own rows, or, for
callers who may read any user's data, to the rows of users who consent
(consent.selectors.visible_to_staff). Subclasses extend ``scope_queryset``; they never
override ``get_queryset``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from accounts.api.request import request_user
from consent.selectors import visible_to_staff
from spendsense.api.permissions import IsOwnerOrOperator, Perm, role_has


class OwnedViewSet(viewsets.GenericViewSet):
    """A viewset over rows that belong to a user (``owner_field``)."""

    owner_field = "user"
    permission_classes = [IsOwnerOrOperator]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        user = request_user(self.request)
        if role_has(user.role, Perm.READ_ANY_USER):
            queryset = visible_to_staff(queryset, user_field=self.owner_field)
        else:
            queryset = queryset.filter(**{self.owner_field: user})
        return self.scope_queryset(queryset)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Hook for subclasses: narrow further (never widen)."""
        return queryset

    @property
    def caller_is_operator(self) -> bool:
        return role_has(request_user(self.request).role, Perm.READ_ANY_USER)
