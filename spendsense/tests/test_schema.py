"""The OpenAPI schema generates and validates without warnings."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

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
