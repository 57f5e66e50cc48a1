"""Callers of the real API: users signed in through the session service, consent granted
through its service, API keys, uploads posted to the endpoint, a synthetic dataset seeded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from accounts.services import session_create
from consent.services import consent_grant
from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from tests.support.commits import committed, stale

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
    pair = session_create(user=user, request=request)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return SignedIn(user=user, client=client, access=pair.access, refresh=pair.refresh)


def grant_consent(user: User) -> User:
    with committed():
        consent_grant(user=user, version=None, request=None)
    return user


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


def seed(user_client: SignedIn, archetype_index: int = 0) -> None:
    """Upload synthetic user ``archetype_index`` of seed 5 (archetype 0: high utilization)."""
    body = synthetic_user(archetype_index, 5).body
    response = upload(user_client.client, json.dumps(body).encode())
    assert response.status_code == HTTPStatus.ACCEPTED


def approve_all(user_id: Any) -> None:
    """Approve every recommendation of the user, as a reviewer would, and let caches know."""
    Recommendation.objects.filter(user_id=user_id).update(status="approved")
    stale(user_id)
