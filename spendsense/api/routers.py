"""The API's one router: every app's ``api/urls.py`` registers its viewsets on a ``Router``."""

from __future__ import annotations

from typing import Any

from rest_framework.routers import Route, SimpleRouter


class Router(SimpleRouter):
    """DRF's SimpleRouter without trailing slashes (the contract's paths have none), with path
    converters for ids (a viewset's ``lookup_value_converter``: ``str`` unless it says
    ``uuid``), and one more kind of resource: the caller's own one (``singleton = True`` on
    the viewset, as for ``/consent``), served at the prefix itself, with no id.

    ``use_regex_path=True`` keeps DRF's regex ids (``[^/.]+``), whose type the schema takes
    from the model (the review queue's ids, as published)."""

    def __init__(self, *, use_regex_path: bool = False) -> None:
        super().__init__(trailing_slash=False, use_regex_path=use_regex_path)
        self.singleton_route = Route(
            url="^{prefix}$" if use_regex_path else "{prefix}",
            mapping={
                "get": "retrieve",
                "post": "create",
                "put": "update",
                "patch": "partial_update",
                "delete": "destroy",
            },
            name="{basename}",
            detail=True,
            initkwargs={"suffix": "Instance"},
        )

    def get_routes(self, viewset: Any) -> list[Route]:
        if getattr(viewset, "singleton", False):
            return [self.singleton_route]
        return super().get_routes(viewset)
