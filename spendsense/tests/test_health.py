"""Liveness and readiness."""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.support import djangoproc

CLOSED = "127.0.0.1:1"  # nothing listens on port 1


@pytest.mark.django_db
def test_health_answers_without_io(api_client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = api_client.get("/health")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_every_dependency(api_client: APIClient) -> None:
    response = api_client.get("/ready")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"},
    }


READY_IN_SUBPROCESS = """
from django.test import Client
response = Client(raise_request_exception=False).get('/ready')
print(json.dumps({'status': response.status_code, 'body': response.json()}))
"""


def unavailable(*names: str) -> dict:
    return {
        "type": "server_error",
        "errors": [
            {"code": "unavailable", "detail": f"{name} is unavailable.", "attr": name}
            for name in names
        ],
    }


@pytest.mark.parametrize(
    ("env", "failed"),
    [
        ({"DATABASE_URL": f"postgres://postgres@{CLOSED}/spendsense"}, ["database"]),
        ({"REDIS_URL": f"redis://{CLOSED}/0"}, ["cache"]),
        ({"CELERY_BROKER_URL": f"redis://{CLOSED}/0"}, ["broker"]),
        (
            {
                "DATABASE_URL": f"postgres://postgres@{CLOSED}/spendsense",
                "REDIS_URL": f"redis://{CLOSED}/0",
            },
            ["database", "cache"],
        ),
    ],
    ids=["database", "redis", "broker", "database-and-redis"],
)
def test_ready_is_503_naming_what_failed(tmp_path: Path, env: dict, failed: list) -> None:
    result = djangoproc.run_json(READY_IN_SUBPROCESS, djangoproc.clean_env(tmp_path, **env))

    assert result == {"status": HTTPStatus.SERVICE_UNAVAILABLE, "body": unavailable(*failed)}


def test_ready_checks_s3_storage(tmp_path: Path, aws_endpoint: str) -> None:
    env = djangoproc.clean_env(
        tmp_path, AWS_STORAGE_BUCKET_NAME="no-such-bucket-ready", AWS_S3_ENDPOINT_URL=aws_endpoint
    )

    result = djangoproc.run_json(READY_IN_SUBPROCESS, env)

    assert result == {"status": HTTPStatus.SERVICE_UNAVAILABLE, "body": unavailable("storage")}


def test_ready_output_is_json_lines_logged(tmp_path: Path) -> None:
    """The failure is logged as a JSON line, with the check's name, for operators."""
    result = djangoproc.run(
        READY_IN_SUBPROCESS, djangoproc.clean_env(tmp_path, REDIS_URL=f"redis://{CLOSED}/0")
    )

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failure = next(line for line in lines if line["message"] == "readiness check failed")
    assert failure["check"] == "cache"
    assert failure["level"] == "WARNING"
