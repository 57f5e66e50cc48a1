"""The OpenAPI schema generates and validates without warnings, and documents every
operation the way client generators and Swagger UI need (summary, operationId, security)."""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/health" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_docs_are_served(api_client: APIClient, path: str) -> None:
    response = api_client.get(path)

    assert response.status_code == HTTPStatus.OK


METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_summary_a_description_an_operation_id_and_security(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    assert len(operations) > 50
    undocumented = [
        f"{method.upper()} {path}: {field}"
        for path, method, operation in operations
        for field in ("summary", "description", "operationId", "security")
        # `security: []` is a public operation's declaration; the others must say something.
        if field not in operation or (field != "security" and not operation[field])
    ]

    assert undocumented == []


def test_operation_ids_are_unique_camel_case_names(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations]

    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-zA-Z]+", i)] == []


def test_public_operations_declare_empty_security_and_api_keys_only_operator_reads(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    security = {(method, path): operation["security"] for path, method, operation in operations}

    assert security[("post", "/api/v1/auth/password/reset")] == []
    assert security[("get", "/health")] == []
    assert security[("get", "/api/v1/users/{user_id}/profile")] == [{"bearerAuth": []}]
    assert security[("post", "/api/v1/auth/login")] == [{"bearerAuth": []}, {}]
    assert security[("get", "/api/v1/operator/review")] == [
        {"bearerAuth": []},
        {"apiKeyAuth": []},
    ]
    assert security[("post", "/api/v1/operator/review/bulk")] == [{"bearerAuth": []}]


def test_path_parameters_are_exactly_those_in_the_path(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    mismatched = [
        (method, path)
        for path, method, operation in operations
        if set(re.findall(r"{(\w+)}", path))
        != {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    ]

    assert mismatched == []


def test_every_error_response_is_the_one_error_format(
    operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    ref = "#/components/schemas/ErrorResponse"
    other = [
        f"{method.upper()} {path} {status}"
        for path, method, operation in operations
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and response.get("content", {}).get("application/json", {}).get("schema") != {"$ref": ref}
    ]

    assert other == []
