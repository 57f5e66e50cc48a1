"""Fixtures shared by every app's tests (helpers they call are in ``tests.support``).

Tests run against whatever the environment names: PostgreSQL and Redis in CI
(``DATABASE_URL``, ``REDIS_URL``), SQLite and the local-memory cache otherwise. AWS is the
only thing faked, by moto's server at the HTTP boundary.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test.client import Client
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from accounts.models import User
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.consent import grant_consent
from tests.support.factories.accounts import (
    ROLE_FACTORIES,
    AdminFactory,
    OperatorFactory,
    UserFactory,
)
from tests.support.insights import seed

# Fake credentials for moto; real ones never reach a test process.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session", autouse=True)
def _storage_bucket() -> None:
    """When the suite runs with S3 as default storage (CI), make sure its bucket exists."""
    from django.conf import settings

    if settings.AWS_STORAGE_BUCKET_NAME:
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=settings.AWS_S3_ENDPOINT_URL, region_name=settings.AWS_S3_REGION_NAME
        )
        existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
        if settings.AWS_STORAGE_BUCKET_NAME not in existing:
            s3.create_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Each test starts with an empty cache (throttle counters, deny-lists, codes) and no
    process memo (the catalog, verified tokens) left by another test."""
    from accounts import tokens
    from recommendations.selectors import catalog_changed

    cache.clear()
    catalog_changed()
    tokens._verified.clear()


@pytest.fixture(autouse=True)
def _requests_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request of a test client commits as a real request does (see ``committed``)."""
    real: Callable[..., Any] = Client.request

    def committing(self: Client, **request: Any) -> Any:
        with committed():
            return real(self, **request)

    monkeypatch.setattr(Client, "request", committing)


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a request's commands went to Redis (each send is one round trip)."""
    sent: list[int] = []
    real = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def signed_in(user: User) -> SignedIn:
    return sign_in(user)


@pytest.fixture
def consented(user: User) -> SignedIn:
    """A signed-in user who has granted consent."""
    return sign_in(grant_consent(user))


@pytest.fixture
def seeded(consented: SignedIn) -> SignedIn:
    """A consented user who uploaded synthetic user 0 of seed 5 (high utilization): signals,
    personas and pending recommendations computed."""
    seed(consented)
    return consented


@pytest.fixture
def user() -> User:
    return UserFactory.create()


@pytest.fixture
def operator_user() -> User:
    return OperatorFactory.create()


@pytest.fixture
def admin_user() -> User:
    return AdminFactory.create()


@pytest.fixture(params=list(ROLE_FACTORIES))
def any_role_user(request: pytest.FixtureRequest) -> User:
    """A user of each role in turn: tests that hold for every role."""
    return ROLE_FACTORIES[request.param].create()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """URL of an S3/SNS-compatible endpoint: CI's moto server, or one started here."""
    existing = os.environ.get("AWS_S3_ENDPOINT_URL")
    if existing:
        yield existing
        return
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_default_storage(aws_endpoint: str, settings: Any) -> str:
    """Default storage on S3 (moto's server), configured as production configures it."""
    import boto3

    from spendsense.storage import s3_storage

    bucket = "spendsense-test-uploads"
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(bucket=bucket, endpoint_url=aws_endpoint, region="us-east-1"),
    }
    return bucket
