"""Ownership, decided once (consent.api.scoping.OwnedViewSet and user_target): every per-user
endpoint (insights, recommendations and feedback, uploads, consent, the review queue) answers
each kind of caller by the one rule. Whole-stack: it drives the apps above consent."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from recommendations.models import Recommendation, RecommendationStatus
from tests.support.clients import INSIGHTS, REVIEW, SignedIn, key_client, sign_in
from tests.support.consent import grant_consent
from tests.support.factories.accounts import AdminFactory, OperatorFactory, UserFactory
from tests.support.insights import seed
from uploads.models import DataUpload

pytestmark = pytest.mark.django_db


@dataclass
class World:
    alice: SignedIn  # consents; has data, an approved and a pending item
    bob: SignedIn  # had data and an approved item, then withdrew consent (data kept)
    carol: SignedIn  # consents; no data
    ids: dict[str, str]


def with_data(signed: SignedIn, index: int) -> tuple[Recommendation, Recommendation, DataUpload]:
    seed(signed, index)  # the processing task runs, as after a real commit
    items = list(Recommendation.objects.filter(user=signed.user).order_by("created_at", "slug"))
    assert len(items) >= 2
    approved, pending = items[0], items[1]
    Recommendation.objects.filter(pk=approved.pk).update(status=RecommendationStatus.APPROVED)
    return approved, pending, DataUpload.objects.get(user=signed.user)


@pytest.fixture
def world() -> World:
    alice = sign_in(grant_consent(UserFactory.create()))
    bob = sign_in(grant_consent(UserFactory.create()))
    carol = sign_in(grant_consent(UserFactory.create()))
    alice_item, alice_pending, alice_upload = with_data(alice, 0)
    bob_item, _, bob_upload = with_data(bob, 1)
    assert bob.client.delete("/api/v1/consent").status_code == HTTPStatus.OK
    ids = {
        "alice": str(alice.user.id),
        "bob": str(bob.user.id),
        "alice_item": str(alice_item.pk),
        "alice_pending": str(alice_pending.pk),
        "bob_item": str(bob_item.pk),
        "alice_upload": str(alice_upload.pk),
        "bob_upload": str(bob_upload.pk),
    }
    return World(alice, bob, carol, ids)


CALLERS = ["anonymous", "api_key", "alice", "bob", "carol", "operator", "admin"]

# An answer: the status; a 403's error code; the owners whose uploads a list shows.
UNAUTH, NOT_FOUND, OK, CREATED, BAD = 401, 404, 200, 201, 400
DENIED, NO_CONSENT = "403 permission_denied", "403 consent_required"


def row(*answers: Any) -> dict[str, Any]:
    """The answers to CALLERS, in their order."""
    return dict(zip(CALLERS, answers, strict=True))


# The one rule on a user's own thing: Alice's (she consents) reach her and staff; Bob's (he
# withdrew) tell him to consent again and stay hidden from everyone else.
ALICES = row(UNAUTH, DENIED, OK, NOT_FOUND, NOT_FOUND, OK, OK)
BOBS = row(UNAUTH, DENIED, NOT_FOUND, NO_CONSENT, NOT_FOUND, NOT_FOUND, NOT_FOUND)

# (method, path) -> the answer to anonymous, an API key, alice, bob, carol, an operator, an
# admin. Alice consents; Bob withdrew; Carol consents and has no data; staff do not consent.
MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    **{("get", f"/api/v1/users/{{alice}}/{name}"): ALICES for name in INSIGHTS},
    **{("get", f"/api/v1/users/{{bob}}/{name}"): BOBS for name in INSIGHTS},
    **{
        ("get", f"/api/v1/users/me/{name}"): row(
            UNAUTH, DENIED, OK, NO_CONSENT, OK, NO_CONSENT, NO_CONSENT
        )
        for name in INSIGHTS
    },
    ("get", "/api/v1/users/not-an-id/profile"): row(
        UNAUTH, DENIED, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND
    ),
    ("get", "/api/v1/recommendations/{alice_item}"): ALICES,
    ("get", "/api/v1/recommendations/{alice_pending}"): row(
        UNAUTH, DENIED, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK
    ),
    ("get", "/api/v1/recommendations/{bob_item}"): BOBS,
    ("post", "/api/v1/recommendations/{alice_item}/feedback"): row(
        UNAUTH, DENIED, CREATED, NOT_FOUND, NOT_FOUND, DENIED, DENIED
    ),
    ("post", "/api/v1/recommendations/{bob_item}/feedback"): BOBS,
    ("get", "/api/v1/data/upload"): row(
        UNAUTH, DENIED, "200 alice", "200 bob", "200 ", "200 alice", "200 alice"
    ),
    ("get", "/api/v1/data/upload/{alice_upload}"): ALICES,
    ("get", "/api/v1/data/upload/{bob_upload}"): row(
        UNAUTH, DENIED, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND
    ),
    # No file: the caller's consent is checked first, then the file (400).
    ("post", "/api/v1/data/upload"): row(
        UNAUTH, DENIED, BAD, NO_CONSENT, BAD, NO_CONSENT, NO_CONSENT
    ),
    ("get", "/api/v1/consent"): row(UNAUTH, DENIED, OK, OK, OK, OK, OK),
}


def client_of(caller: str, world: World) -> APIClient:
    if caller == "anonymous":
        return APIClient()
    if caller == "api_key":
        return key_client()
    if caller in ("operator", "admin"):
        factory = OperatorFactory if caller == "operator" else AdminFactory
        return sign_in(factory.create()).client
    signed: SignedIn = getattr(world, caller)
    return signed.client


def answer(response: Any, world: World) -> Any:
    if response.status_code == HTTPStatus.FORBIDDEN:
        return f"403 {response.json()['errors'][0]['code']}"
    if response.status_code == HTTPStatus.OK and response.wsgi_request.path.endswith("/upload"):
        names = {
            str(u.id): name for name, u in (("alice", world.alice.user), ("bob", world.bob.user))
        }
        owners = sorted({names.get(item["user_id"], "?") for item in response.json()["results"]})
        return f"200 {','.join(owners)}"
    return response.status_code


@pytest.mark.parametrize("caller", CALLERS)
def test_role_matrix_of_the_per_user_endpoints(world: World, caller: str) -> None:
    client = client_of(caller, world)
    answers = {}
    for method, path in MATRIX:
        url = path.format(**world.ids)
        body = {"rating": "helpful"} if url.endswith("/feedback") else {}
        fmt = "multipart" if url.endswith("/upload") and method == "post" else "json"
        answers[(method, path)] = answer(getattr(client, method)(url, body, format=fmt), world)

    assert answers == {key: expected[caller] for key, expected in MATRIX.items()}


def test_staff_reach_only_consenting_owners_in_the_review_queue(world: World) -> None:
    """The review queue goes through the same base: a withdrawn user's items are not there."""
    operator = sign_in(OperatorFactory.create())

    listed = {item["id"] for item in operator.client.get(REVIEW).json()["results"]}

    assert world.ids["alice_item"] in listed
    assert not Recommendation.objects.filter(user=world.bob.user, pk__in=listed).exists()
