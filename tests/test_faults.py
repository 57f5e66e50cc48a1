"""Faults of what we depend on: Redis down, PostgreSQL down."""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from recommendations.synthetic import synthetic_user
from tests.support import djangoproc
from tests.support.clients import SignedIn, upload
from tests.support.errors import error_body
from tests.support.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


def test_with_redis_down_reads_still_answer_from_the_database(consented: SignedIn) -> None:
    upload(consented.client, json.dumps(synthetic_user(1, 4).body).encode())

    with override_settings(CACHES=REDIS_DOWN):
        me = consented.client.get("/api/v1/users/me")
        signals = consented.client.get("/api/v1/users/me/signals")
        health = consented.client.get("/health")

    assert me.status_code == HTTPStatus.OK
    assert signals.status_code == HTTPStatus.OK
    assert signals.json()["as_of"] == "2026-10-31"
    assert health.status_code == HTTPStatus.OK


def test_with_redis_down_revoked_sessions_stay_revoked(signed_in: SignedIn) -> None:
    signed_in.client.post("/api/v1/auth/logout", {"refresh": signed_in.refresh})

    with override_settings(CACHES=REDIS_DOWN):
        response = signed_in.client.get("/api/v1/users/me")

    assert response.status_code == HTTPStatus.UNAUTHORIZED  # the database says revoked


def test_with_redis_down_sign_in_fails_closed(user: Any, api_client: Any) -> None:
    api_client.raise_request_exception = False
    with override_settings(CACHES=REDIS_DOWN):
        response = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == error_body(
        "server_error",
        ("throttle_unavailable", "Sign-in is briefly unavailable; try again in a minute.", None),
    )


def test_with_redis_down_ready_names_the_cache(api_client: Any) -> None:
    api_client.raise_request_exception = False
    with override_settings(CACHES=REDIS_DOWN):
        response = api_client.get("/ready")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert [e["attr"] for e in response.json()["errors"]] == ["cache"]


POSTGRES_DOWN = """
import uuid
from django.test import Client
from accounts import tokens
token = tokens.access_token_issue(user_id=uuid.uuid4(), session_id=uuid.uuid4(), role="user")
client = Client(raise_request_exception=False)
response = client.get('/api/v1/users/me', HTTP_AUTHORIZATION=f'Bearer {token}')
print(json.dumps({'status': response.status_code, 'retry': response.get('Retry-After'),
                  'type': response['Content-Type'], 'body': response.content.decode()}))
"""


def test_with_postgres_down_the_api_answers_503_json_without_a_trace(tmp_path: Path) -> None:
    env = djangoproc.clean_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/spendsense")

    result = djangoproc.run_json(POSTGRES_DOWN, env)

    assert result["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert result["retry"] == "5"
    assert result["type"] == "application/json"
    assert json.loads(result["body"]) == {
        "type": "server_error",
        "errors": [
            {
                "code": "database_unavailable",
                "detail": "The service is briefly unavailable; try again shortly.",
                "attr": None,
            }
        ],
    }
    assert "Traceback" not in result["body"]
