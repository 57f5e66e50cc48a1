"""Pagination: every list answers ``{count, next, previous, results}``."""

from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``; at most 200 items a page so one call cannot fetch a table."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
