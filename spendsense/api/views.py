"""Framework endpoints: liveness, readiness, and the JSON 404 for unknown API paths."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connections
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from spendsense.api.errors import ServiceUnavailable
from spendsense.api.openapi import error_responses

logger = logging.getLogger(__name__)


class PublicView(APIView):
    """A view that reads no credentials and lets anyone in (a probe, the keys that
    verify tokens, a provider sending the browser back, a mailed link's target)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


@extend_schema(tags=["health"])
class FrameworkView(PublicView):
    """The framework's own endpoints answer anyone, with no rate limit either: probes call
    them often, and what they say does not depend on who asks. Documented under ``health``."""

    throttle_classes: list[type] = []


class HealthView(FrameworkView):
    """Liveness: the process answers. No I/O, so a slow dependency never kills the task."""

    @extend_schema(
        operation_id="getHealth",
        summary="Liveness: the process answers",
        description=(
            "Always 200 `{status: ok}` while the process runs; it does no I/O, so use "
            "GET /ready to learn whether dependencies answer."
        ),
        auth=[],
        responses=inline_serializer("Health", {"status": serializers.CharField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    cache.set("ready:probe", "1", timeout=10)
    if cache.get("ready:probe") != "1":
        raise RuntimeError("cache did not return what was written")


def check_broker() -> None:
    if not settings.CELERY_BROKER_URL:
        return  # eager mode: tasks run in-process, there is no broker to reach
    from spendsense.celery_app import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def check_storage() -> None:
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:
        bucket.meta.client.head_bucket(Bucket=bucket.name)
        return
    location = getattr(default_storage, "location", None)
    if location is not None:
        os.makedirs(location, exist_ok=True)
        if not os.access(location, os.W_OK):
            raise PermissionError("storage folder is not writable")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


class ReadyView(FrameworkView):
    """Readiness: database, cache, broker and storage each answer, or 503 naming which not."""

    @extend_schema(
        operation_id="getReadiness",
        summary="Readiness: database, cache, broker and storage answer",
        description=(
            "200 with each check `ok`; 503 with one error per failed check, its `attr` naming "
            "it (`database`, `cache`, `broker`, `storage`)."
        ),
        auth=[],
        responses={
            200: inline_serializer(
                "Ready",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            ),
            **error_responses(503),
        },
    )
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        failed: list[str] = []
        for name, check in READINESS_CHECKS.items():
            try:
                check()
            except Exception:
                logger.warning("readiness check failed", extra={"check": name}, exc_info=True)
                checks[name] = "unavailable"
                failed.append(name)
            else:
                checks[name] = "ok"
        if failed:
            raise _unavailable(failed)
        return Response({"status": "ok", "checks": checks})


def _unavailable(failed: list[str]) -> exceptions.APIException:
    # One error per failed check, its attr naming the check.
    error = ServiceUnavailable()
    error.detail = {
        name: [exceptions.ErrorDetail(f"{name} is unavailable.", code="unavailable")]
        for name in failed
    }
    return error


class ApiNotFoundView(FrameworkView):
    """Every unknown path under /api/: the JSON 404, in DEBUG too (no HTML debug page)."""

    schema = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        raise exceptions.NotFound()
