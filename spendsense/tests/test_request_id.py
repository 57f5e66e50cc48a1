"""X-Request-ID on every response, and the JSON access line that carries it."""

from __future__ import annotations

import json
import logging
import uuid
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient


def json_formatter() -> JsonFormatter:
    """The formatter exactly as LOGGING configures it."""
    logging_config: dict[str, Any] = settings.LOGGING
    configured: dict[str, Any] = logging_config["formatters"]["json"]
    options = {key: value for key, value in configured.items() if key != "()"}
    return JsonFormatter(**options)


def test_generated_when_absent(api_client: APIClient) -> None:
    response = api_client.get("/health")

    assert uuid.UUID(response["X-Request-ID"])


def test_echoed_when_given(api_client: APIClient) -> None:
    response = api_client.get("/health", HTTP_X_REQUEST_ID="req-2f1c.abc_9:1")

    assert response["X-Request-ID"] == "req-2f1c.abc_9:1"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "new\nline", "<script>", ""])
def test_replaced_when_unsafe(api_client: APIClient, bad: str) -> None:
    response = api_client.get("/health", HTTP_X_REQUEST_ID=bad)

    assert uuid.UUID(response["X-Request-ID"])


def test_on_error_responses_too(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/missing", HTTP_X_REQUEST_ID="trace-404")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["X-Request-ID"] == "trace-404"


def test_access_line_is_json_with_request_fields(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="spendsense.access"):
        api_client.get("/health", HTTP_X_REQUEST_ID="trace-1")

    record = next(r for r in caplog.records if r.name == "spendsense.access")
    line = json.loads(json_formatter().format(record))
    assert line["request_id"] == "trace-1"
    assert line["method"] == "GET"
    assert line["path"] == "/health"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["user_id"] is None
    assert line["level"] == "INFO"
