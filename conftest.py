"""Fixtures shared by every app's tests.

Tests run against whatever the environment names: PostgreSQL and Redis in CI
(``DATABASE_URL``, ``REDIS_URL``), SQLite and the local-memory cache otherwise. AWS is the
only thing faked, by moto's server at the HTTP boundary.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import RequestFactory, TestCase
from django.test.client import Client
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.factories import AdminFactory, OperatorFactory, UserFactory

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


_capturing = threading.local()


@contextmanager
def committed() -> Iterator[None]:
    """What runs inside commits as in production: the callbacks it registers on commit (cache
    bumps, the processing task) run at its end. Tests run in a transaction that never commits,
    so without this those callbacks would never run. Nested, only the outermost runs them:
    Django's capture leaves them registered, and an inner one would run them twice."""
    if getattr(_capturing, "active", False):
        yield
        return
    _capturing.active = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield
    finally:
        _capturing.active = False


@pytest.fixture(autouse=True)
def _requests_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request of a test client commits as a real request does (see ``committed``)."""
    real: Callable[..., Any] = Client.request

    def committing(self: Client, **request: Any) -> Any:
        with committed():
            return real(self, **request)

    monkeypatch.setattr(Client, "request", committing)


def concurrently(count: int, call: Callable[[], Any]) -> list[Any]:
    """``call`` from ``count`` threads released together by a barrier (each with its own
    database connection, closed after): what each returned, in no particular order."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stale(user_id: Any) -> None:
    """Make every cached entry of the user stale, as any change to them does once committed."""
    from spendsense import coherence

    with committed():
        coherence.user_changed(user_id)


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


@dataclass
class SignedIn:
    """A user signed in through the real session service, with a client carrying the token."""

    user: User
    client: APIClient
    access: str
    refresh: str


def sign_in(user: User) -> SignedIn:
    from accounts.sessions.services import session_create
    from spendsense.api.request import request_meta

    request = RequestFactory().post("/api/v1/auth/login", HTTP_USER_AGENT="pytest")
    pair = session_create(user=user, meta=request_meta(request))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return SignedIn(user=user, client=client, access=pair.access, refresh=pair.refresh)


@pytest.fixture
def signed_in(user: User) -> SignedIn:
    return sign_in(user)


def grant_consent(user: User) -> User:
    from consent.services import consent_grant

    with committed():
        consent_grant(user=user, version=None, request=None)
    return user


@pytest.fixture
def consented(user: User) -> SignedIn:
    """A signed-in user who has granted consent."""
    return sign_in(grant_consent(user))


@pytest.fixture
def user() -> User:
    return UserFactory.create()


@pytest.fixture
def operator_user() -> User:
    return OperatorFactory.create()


@pytest.fixture
def admin_user() -> User:
    return AdminFactory.create()


ROLE_FACTORIES = {Role.USER: UserFactory, Role.OPERATOR: OperatorFactory, Role.ADMIN: AdminFactory}


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
