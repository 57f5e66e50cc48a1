"""Ownership, decided once: who may reach a user's rows (uploads, signals, personas,
recommendations, feedback, consent), for every viewset that serves them and for the cached
reads (recommendations.api.fast_reads), which call the same function.

Authentication has already decided the caller (a user, an API key, or nobody). From there:

- one's own rows: allowed; where the action needs the owner's consent, without it 403
  ``consent_required``, which tells the person what to do;
- another user's rows: only for callers who may read any user's data (the permissions
  table: operators, admins, API keys), and only while that user consents; otherwise 404, so
  neither the row nor the consent is revealed.

``OwnedViewSet`` owns ``get_queryset``, ``get_object`` and ``get_permissions`` (and leaves
``filter_queryset`` and ``paginate_queryset``, which a list passes its rows through, as DRF
defines them): a subclass that defines one fails when its class is created. Subclasses
narrow with ``scope_queryset`` and declare ``owner_field``, ``consent_required_for`` and
``permission_classes``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.models import User
from accounts.selectors import user_row
from consent.selectors import consent_granted, visible_to_staff
from consent.services import consent_require
from spendsense.api.permissions import Perm, may, request_caller

# What OwnedViewSet decides alone, and what a list passes its rows through (a subclass filters
# and paginates through filter_backends and pagination_class, which cannot swap the rows).
SEALED = (
    "get_queryset",
    "get_object",
    "get_permissions",
    "filter_queryset",
    "paginate_queryset",
)


def _own(caller: User, *, consent_required: bool) -> User:
    """The caller, reaching their own rows: 403 ``consent_required`` without consent, where
    the action needs it."""
    if consent_required:
        consent_require(user=caller)
    return caller


def owner_reach(*, caller: Any, owner: User, consent_required: bool) -> None:
    """Whether ``caller`` may reach rows of ``owner``: returns, or raises 404, or 403
    ``consent_required`` for one's own rows without consent when ``consent_required``."""
    if isinstance(caller, User) and owner.pk == caller.pk:
        _own(caller, consent_required=consent_required)
        if not may(caller, Perm.READ_ANY_USER):
            return
        # Staff reach rows, their own too, by the staff rule below (as in owned_rows).
    if not may(caller, Perm.READ_ANY_USER) or not consent_granted(user=owner):
        raise exceptions.NotFound()


def owned_rows(
    queryset: QuerySet[Any], *, caller: Any, owner_field: str | None, consent_required: bool
) -> QuerySet[Any]:
    """``queryset`` limited to the rows ``caller`` may reach (``owner_field`` names the row's
    user; None when the rows are users)."""
    if may(caller, Perm.READ_ANY_USER):
        return visible_to_staff(queryset, user_field=owner_field)
    if not isinstance(caller, User):
        return queryset.none()
    _own(caller, consent_required=consent_required)
    return queryset.filter(**{owner_field or "pk": caller.pk})


def user_target(*, caller: Any, user_ref: str, consent_required: bool = True) -> User:
    """The user ``user_ref`` (``me`` or a user id) names, if ``caller`` may reach their rows.
    One's own account is always one's own (with consent, where ``consent_required``)."""
    if not isinstance(caller, User):
        raise exceptions.NotAuthenticated()
    if user_ref == "me":
        return _own(caller, consent_required=consent_required)
    try:
        user_id = uuid.UUID(user_ref)
    except ValueError:
        raise exceptions.NotFound() from None
    if user_id == caller.id:
        return _own(caller, consent_required=consent_required)
    # Only callers who may read others look anyone up.
    target = user_row(user_id=user_id) if may(caller, Perm.READ_ANY_USER) else None
    if target is None:
        raise exceptions.NotFound()
    owner_reach(caller=caller, owner=target, consent_required=consent_required)
    return target


class OwnedViewSet(viewsets.GenericViewSet):
    """A viewset over rows that belong to a user, scoped by the caller (see the module).

    ``owner_field`` names the row's user; None when the rows are users, named in the URL by
    ``me`` or an id (or, with no id in the URL, the caller). ``consent_required_for``: the
    actions for which one's own rows need one's consent.
    """

    owner_field: ClassVar[str | None] = "user"
    consent_required_for: ClassVar[Collection[str]] = ()
    permission_classes: Any = [IsAuthenticated]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in SEALED:  # its own, or one a class before OwnedViewSet in the MRO brings
            if getattr(cls, name) is not getattr(OwnedViewSet, name):
                raise ImproperlyConfigured(
                    f"{cls.__qualname__} defines {name}(): ownership is decided by "
                    "OwnedViewSet alone; narrow the rows with scope_queryset()."
                )

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Hook for subclasses: narrow further (never widen); applied before ownership."""
        return queryset

    @property
    def consent_required(self) -> bool:
        return self.action in self.consent_required_for

    def get_queryset(self) -> QuerySet[Any]:
        """The rows the caller may reach."""
        return owned_rows(
            self.scope_queryset(super().get_queryset()),
            caller=request_caller(self.request),
            owner_field=self.owner_field,
            consent_required=self.consent_required,
        )

    def get_object(self) -> Any:
        """The row (or user) the URL names, if the caller may reach it."""
        caller = request_caller(self.request)
        lookup = self.lookup_url_kwarg or self.lookup_field
        if self.owner_field is None:
            found: Any = user_target(
                caller=caller,
                user_ref=self.kwargs.get(lookup, "me"),
                consent_required=self.consent_required,
            )
        else:
            queryset = self.filter_queryset(self.scope_queryset(super().get_queryset()))
            try:
                found = queryset.filter(**{self.lookup_field: self.kwargs[lookup]}).first()
            except (TypeError, ValueError, ValidationError):
                found = None
            if found is None:
                raise exceptions.NotFound()
            owner_reach(
                caller=caller,
                owner=getattr(found, self.owner_field),
                consent_required=self.consent_required,
            )
        self.check_object_permissions(self.request, found)
        return found

    def get_owner(self) -> User:
        """The caller, as the owner of what this action creates or changes of their own."""
        return user_target(
            caller=request_caller(self.request),
            user_ref="me",
            consent_required=self.consent_required,
        )
