"""Callers of the real API: users signed in through the session service, API keys, uploads
posted to the endpoint. Consent granted through its service is in ``tests.support.consent``;
a synthetic dataset seeded and approved in ``tests.support.insights`` (each helper module
imports only the apps its callers may)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from accounts.sessions.services import session_create
from spendsense.api.request import request_meta
from tests.support.commits import committed

UPLOAD = "/api/v1/data/upload"
REVIEW = "/api/v1/operator/review"
# The per-user insight endpoints: /api/v1/users/<id or me>/<path>.
INSIGHTS = ["profile", "signals", "persona", "recommendations"]


@dataclass
class SignedIn:
    """A user signed in through the real session service, with a client carrying the token."""

    user: User
    client: APIClient
    access: str
    refresh: str


def sign_in(user: User) -> SignedIn:
    request = RequestFactory().post("/api/v1/auth/login", HTTP_USER_AGENT="pytest")
    pair = session_create(user=user, meta=request_meta(request))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return SignedIn(user=user, client=client, access=pair.access, refresh=pair.refresh)


def key_client(name: str = "reporting") -> APIClient:
    """A client carrying a new API key."""
    _, key = APIKey.objects.create_key(name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def upload(client: APIClient, content: bytes, name: str = "data.json", **headers: Any) -> Any:
    """POST a file; callbacks registered on commit (the processing task) run as after a real
    commit, since the test wraps the request in a transaction that never commits."""
    with committed():
        return client.post(
            UPLOAD, {"file": SimpleUploadedFile(name, content)}, format="multipart", **headers
        )
