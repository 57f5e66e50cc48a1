"""The review queue's pages: ``{count, next, previous, results}`` like every list, with a
count that stops at ``COUNT_CAP`` (docs/decisions.md, "The review queue counts up to 10,000").

An exact count joins every visible recommendation to its user's consent (a scan of the whole
table: about a second at 2.8 million items); counting up to the cap reads at most that many
index entries, so the first page costs the same at any table size."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator

from spendsense.api.pagination import PageNumberPagination

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """``count`` is exact up to COUNT_CAP and COUNT_CAP beyond it; the pages past the cap are
    out of range (narrow the queue with its filters to reach those items)."""

    @cached_property
    def count(self) -> int:
        items: Any = self.object_list  # the queue's queryset: COUNT over a LIMIT subquery
        return min(int(items[: COUNT_CAP + 1].count()), COUNT_CAP)


class ReviewPagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        body = super().get_paginated_response_schema(schema)
        body["properties"]["count"]["description"] = (
            f"Items matching, exact up to {COUNT_CAP:,}; {COUNT_CAP:,} means at least that many "
            "(pages past it are out of range: narrow the queue with its filters)."
        )
        return body
