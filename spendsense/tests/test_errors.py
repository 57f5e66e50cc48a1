"""One error format for every status, DEBUG or not, with no per-request values."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.urls("spendsense.tests.urls")


def client_error(code: str, detail: str, attr: str | None = None) -> dict:
    return {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": attr}]}


def test_400_names_every_invalid_field_with_its_path(api_client: APIClient) -> None:
    response = api_client.post(
        "/probe/validate",
        {"name": "far too long a name", "lines": [{"amount": "1.5"}, {"amount": "abc"}]},
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "max_length",
                "detail": "Ensure this field has no more than 10 characters.",
                "attr": "name",
            },
            {"code": "invalid", "detail": "A valid number is required.", "attr": "lines.1.amount"},
        ],
    }


def test_400_for_malformed_json(api_client: APIClient) -> None:
    response = api_client.post("/probe/validate", "{not json", content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "parse_error"
    assert body["errors"][0]["detail"].startswith("JSON parse error")


def test_401_without_credentials(api_client: APIClient) -> None:
    response = api_client.get("/probe/auth")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == client_error(
        "not_authenticated", "Authentication credentials were not provided."
    )


def test_403(api_client: APIClient) -> None:
    response = api_client.get("/probe/forbidden")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == client_error(
        "permission_denied", "You do not have permission to perform this action."
    )


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing/here", "/api"])
@pytest.mark.parametrize("debug", [False, True])
def test_404_under_api_is_json_in_debug_too(api_client: APIClient, path: str, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = api_client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/json"
    assert response.json() == client_error("not_found", "Not found.")


def test_404_outside_api_is_json_too(api_client: APIClient) -> None:
    response = api_client.get("/no-such-page")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == client_error("not_found", "Not found.")


def test_405(api_client: APIClient) -> None:
    response = api_client.delete("/health")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == client_error("method_not_allowed", 'Method "DELETE" not allowed.')


def test_415(api_client: APIClient) -> None:
    response = api_client.post("/probe/validate", "name=x", content_type="text/plain")

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json() == client_error(
        "unsupported_media_type", 'Unsupported media type "text/plain" in request.'
    )


def test_429_has_retry_after_and_a_constant_body(api_client: APIClient) -> None:
    statuses = [api_client.get("/probe/throttled").status_code for _ in range(3)]
    first = api_client.get("/probe/throttled")
    second = api_client.get("/probe/throttled")

    assert statuses == [HTTPStatus.OK] * 3
    assert first.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(first["Retry-After"]) <= 60
    assert first.json() == client_error("throttled", "Request was throttled.")
    # Equal failures have equal bodies: the wait lives in the header only.
    assert second.content == first.content


@pytest.mark.parametrize("debug", [False, True])
def test_500_is_json_without_internals(debug: bool) -> None:
    client = APIClient(raise_request_exception=False)
    with override_settings(DEBUG=debug):
        response = client.get("/probe/crash")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
    }
    assert b"passwd" not in response.content
    assert b"Traceback" not in response.content


def test_equal_failures_have_equal_bodies(api_client: APIClient) -> None:
    first = api_client.get("/api/v1/missing", HTTP_X_REQUEST_ID="one")
    second = api_client.get("/api/v1/missing", HTTP_X_REQUEST_ID="two")

    assert first.content == second.content
    assert first["X-Request-ID"] == "one"
    assert second["X-Request-ID"] == "two"


@pytest.mark.django_db
@pytest.mark.urls("spendsense.urls")
def test_a_service_400_is_a_validation_error_naming_its_field(signed_in: Any) -> None:
    response = signed_in.client.put(
        "/api/v1/users/me", {"password": "a new passphrase 12345"}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0]["attr"] == "current_password"
