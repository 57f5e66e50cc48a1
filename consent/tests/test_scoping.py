"""Ownership, decided once (consent.api.scoping): the base refuses subclasses that would
decide it again. How every per-user endpoint answers each kind of caller by the one rule is
the whole-stack role matrix, tests/test_ownership.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from consent.api.scoping import SEALED, OwnedViewSet


@pytest.mark.parametrize("method", SEALED)
def test_a_subclass_that_decides_ownership_itself_fails_at_class_creation(method: str) -> None:
    def override(self: Any) -> Any:
        return None

    with pytest.raises(ImproperlyConfigured, match=method):
        type("Bypass", (OwnedViewSet,), {method: override})


@pytest.mark.parametrize("method", SEALED)
def test_a_mixin_that_decides_ownership_cannot_be_put_first(method: str) -> None:
    mixin = type("Mixin", (), {method: lambda self: None})

    with pytest.raises(ImproperlyConfigured, match=method):
        type("Bypass", (mixin, OwnedViewSet), {})


def test_a_subclass_may_narrow_through_the_hook() -> None:
    class Narrowed(OwnedViewSet):
        def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
            return queryset.none()

    assert issubclass(Narrowed, OwnedViewSet)


@pytest.mark.parametrize("method", ["filter_queryset", "paginate_queryset"])
def test_the_list_path_cannot_swap_its_rows_either(method: str) -> None:
    """A list reads get_queryset() through filter_queryset and paginate_queryset: a subclass
    returning other rows from either (Model.objects...) would list what ownership refused.
    Subclasses filter and paginate through filter_backends and pagination_class."""

    def swap(self: Any, queryset: Any, *args: Any) -> Any:
        return queryset.model.objects.all()

    with pytest.raises(ImproperlyConfigured, match=method):
        type("Bypass", (OwnedViewSet,), {method: swap})
