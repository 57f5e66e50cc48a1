"""Erasure reaches every copy: once a person deletes their data (or their account), no value
in Redis holds any of it, and the audit trail keeps ids and actions, not their figures."""

from __future__ import annotations

import json
import os
from http import HTTPStatus
from typing import Any

import pytest

from accounts.models import AuditEvent
from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from spendsense.redis import redis_client
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.factories.accounts import OperatorFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="what Redis holds"),
]
READS = ["profile", "signals", "persona", "recommendations", "recommendations?page_size=2"]


def markers(body: dict[str, Any]) -> set[bytes]:
    """Strings only this person's data holds: account names and ids, merchants, amounts."""
    found: set[str] = set()
    for account in body.get("accounts", []):
        found |= {account["account_id"], account["name"], str(account["balances"]["current"])}
    for transaction in body.get("transactions", [])[:40]:
        found |= {transaction["transaction_id"], transaction["merchant_name"] or ""}
    return {m.encode() for m in found if m and len(m) >= 4}


def redis_values() -> list[bytes]:
    redis = redis_client()
    assert redis is not None
    values = []
    for key in redis.scan_iter(count=1000):
        if redis.type(key) == b"string":
            values.append(redis.get(key) or b"")
        elif redis.type(key) == b"set":
            values += list(redis.smembers(key))
    return values


def holding(needles: set[bytes]) -> list[bytes]:
    return [n for n in needles for value in redis_values() if n in value]


@pytest.fixture
def person(consented: SignedIn) -> tuple[SignedIn, set[bytes]]:
    body = synthetic_user(0, 11).body
    assert upload(consented.client, json.dumps(body).encode()).status_code == 202
    Recommendation.objects.filter(user=consented.user).update(status="approved")
    operator = sign_in(OperatorFactory.create())
    for read in READS:  # cached twice over: the person's reads and an operator's
        assert consented.client.get(f"/api/v1/users/me/{read}").status_code == HTTPStatus.OK
        operator.client.get(f"/api/v1/users/{consented.user.id}/{read}")
    needles = markers(body)
    assert holding(needles), "the reads should have cached the person's figures"
    return consented, needles


def give_feedback(signed: SignedIn) -> bytes:
    """Feedback with an Idempotency-Key (kept on the rating's row, for a retry): nothing of
    it may stay in Redis once the person's data is erased."""
    item = Recommendation.objects.filter(user=signed.user).first()
    assert item is not None
    comment = "my landlord raised the rent in march"
    response = signed.client.post(
        f"/api/v1/recommendations/{item.pk}/feedback",
        {"rating": "helpful", "comment": comment},
        HTTP_IDEMPOTENCY_KEY="feedback-1",
    )
    assert response.status_code == HTTPStatus.CREATED
    return comment.encode()


@pytest.mark.parametrize("erase", ["data", "account"])
def test_erasure_leaves_no_copy_in_redis(person: tuple[SignedIn, set[bytes]], erase: str) -> None:
    signed, needles = person
    comment = give_feedback(signed)

    if erase == "data":
        response = signed.client.delete("/api/v1/consent?delete_data=true")
    else:
        response = signed.client.delete("/api/v1/users/me")

    assert response.status_code < HTTPStatus.BAD_REQUEST
    assert holding(needles | {comment}) == []


def test_deleting_the_account_leaves_no_copy_in_redis(
    person: tuple[SignedIn, set[bytes]],
) -> None:
    signed, needles = person
    email = (signed.user.email or "").encode()

    assert signed.client.delete("/api/v1/users/me").status_code == HTTPStatus.NO_CONTENT

    assert holding(needles | {email}) == []


def test_the_audit_trail_keeps_no_figures(person: tuple[SignedIn, set[bytes]]) -> None:
    signed, needles = person
    operator = sign_in(OperatorFactory.create())
    item = Recommendation.objects.filter(user=signed.user).first()
    assert item is not None
    operator.client.put(
        f"/api/v1/operator/review/{item.pk}",
        {"rationale": item.rationale + " Edited.", "reason": "clarity"},
        format="json",
    )
    operator.client.post(f"/api/v1/operator/review/{item.pk}/reject", {"reason": "dup"})
    signed.client.delete("/api/v1/users/me")

    trail = json.dumps(list(AuditEvent.objects.values("details"))).encode()
    assert [n for n in needles if n in trail] == []
    assert item.rationale[:40].encode() not in trail
