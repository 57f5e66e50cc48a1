"""An outsider's probes of the API after issue #17's refactor: idempotency keys across users and
racing retries, hostile upload bodies. Whole-stack: real PostgreSQL and Redis, real endpoints."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from consent.services import ConsentRequired
from recommendations.models import Feedback, RecommendationStatus
from recommendations.services import feedback_record
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.commits import concurrently
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from tests.support.factories.recommendations import RecommendationFactory

FEEDBACK = "/api/v1/recommendations/{}/feedback"


def person_with_items(count: int = 1) -> tuple[SignedIn, list[Any]]:
    signed = sign_in(grant_consent(UserFactory.create()))
    items = RecommendationFactory.create_batch(
        count, user=signed.user, status=RecommendationStatus.APPROVED
    )
    return signed, items


def rate_with_key(signed: SignedIn, item: Any) -> Any:
    """A helpful rating of ``item``, sent with the Idempotency-Key ``k``."""
    return signed.client.post(
        FEEDBACK.format(item.pk), {"rating": "helpful"}, HTTP_IDEMPOTENCY_KEY="k"
    )


@pytest.mark.django_db
def test_an_idempotency_key_is_the_callers_own() -> None:
    alice, [alice_item] = person_with_items()
    bob, [bob_item] = person_with_items()
    first = alice.client.post(
        FEEDBACK.format(alice_item.pk),
        {"rating": "helpful", "comment": "alice's"},
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert first.status_code == HTTPStatus.CREATED

    # Bob's same key on Alice's item: not his (404), and nothing of Alice's answer.
    on_hers = bob.client.post(
        FEEDBACK.format(alice_item.pk),
        {"rating": "helpful", "comment": "alice's"},
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert on_hers.status_code == HTTPStatus.NOT_FOUND
    assert "alice's" not in on_hers.content.decode()
    # On his own item the key is fresh: his own rating, created.
    on_his = bob.client.post(
        FEEDBACK.format(bob_item.pk), {"rating": "not_helpful"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert on_his.status_code == HTTPStatus.CREATED
    assert on_his.json()["recommendation_id"] == str(bob_item.pk)
    assert on_his.json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_a_replay_after_withdrawal_is_refused() -> None:
    alice, [item] = person_with_items()
    assert rate_with_key(alice, item).status_code == HTTPStatus.CREATED
    assert alice.client.delete("/api/v1/consent").status_code == HTTPStatus.OK
    replay = rate_with_key(alice, item)
    assert replay.status_code == HTTPStatus.FORBIDDEN
    assert replay.json()["errors"][0]["code"] == "consent_required"


def _race(signed: SignedIn, urls: list[str], body: dict[str, str]) -> list[Any]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    queue = list(urls)

    def post() -> Any:
        url = queue.pop()
        response = signed.client.post(url, body, HTTP_IDEMPOTENCY_KEY="double")
        return response.status_code, response.json()

    return concurrently(len(urls), post)


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_answers_the_first_answer_twice() -> None:
    alice, [item] = person_with_items()
    answers = _race(alice, [FEEDBACK.format(item.pk)] * 4, {"rating": "helpful"})

    assert [status for status, _ in answers] == [HTTPStatus.CREATED] * 4
    assert len({body["id"] for _, body in answers}) == 1
    assert Feedback.objects.filter(user=alice.user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_key_racing_on_two_items_writes_one_rating() -> None:
    alice, items = person_with_items(2)
    answers = _race(alice, [FEEDBACK.format(i.pk) for i in items], {"rating": "helpful"})

    assert sorted(status for status, _ in answers) == [HTTPStatus.CREATED, HTTPStatus.CONFLICT]
    assert Feedback.objects.filter(user=alice.user).count() == 1


# Hostile files: each must be a located 4xx, never a 500, never accepted then failed.
NESTED = b'{"accounts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
ACCOUNT = {
    "account_id": "a1",
    "name": "Checking",
    "type": "depository",
    "subtype": "checking",
    "mask": "0000",
    "balances": {"current": 10, "available": 10, "iso_currency_code": "USD"},
}


def _body(**changes: Any) -> bytes:
    return json.dumps({"accounts": [{**ACCOUNT, **changes}], "transactions": []}).encode()


HOSTILE: dict[str, bytes] = {
    "deep nesting": NESTED,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge integer": _body(balances={"current": 10**4000, "iso_currency_code": "USD"}),
    "huge exponent": _body().replace(b'"current": 10', b'"current": 1e400000000'),
    "NaN": _body().replace(b'"current": 10', b'"current": NaN'),
    "Infinity": _body().replace(b'"current": 10', b'"current": -Infinity'),
    "lone surrogate": _body().replace(b'"Checking"', b'"\\ud800"'),
    "invalid UTF-8": _body().replace(b"Checking", b"Check\xffing"),
    "account a list": json.dumps({"accounts": [[1]], "transactions": []}).encode(),
    "accounts a string": b'{"accounts": "x", "transactions": []}',
    "top-level list": b"[]",
    "top-level number": b"1e999999",
    "balances a number": _body(balances=5),
    "type a dict": _body(type={"a": 1}),
    "id a float": _body(account_id=1.5),
    "empty": b"",
    "duplicate keys": b'{"accounts": [], "accounts": 5, "transactions": []}',
    "number as key value": b'{"accounts": [{"account_id": 1e999999999}]}',
    "BOM only": b"\xef\xbb\xbf",
    "NUL bytes": b"\x00" * 1024,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_json_file_is_a_located_4xx(consented: SignedIn, name: str) -> None:
    response = upload(consented.client, HOSTILE[name])
    assert 400 <= response.status_code < 500, (name, response.status_code, response.content[:300])
    errors = response.json()["errors"]
    assert errors
    assert all(e.get("attr") for e in errors), errors


CSV_HEAD = b"account_id,date,amount,name,merchant_name,category,pending\n"
HOSTILE_CSV: dict[str, bytes] = {
    "formula cells": CSV_HEAD + b'a1,2024-01-02,=1+1,"=HYPERLINK(""http://x"")",@SUM(A1),+cmd,no\n',
    "NaN amount": CSV_HEAD + b"a1,2024-01-02,NaN,Coffee,,,false\n",
    "Infinity amount": CSV_HEAD + b"a1,2024-01-02,Infinity,Coffee,,,false\n",
    "huge amount": CSV_HEAD + b"a1,2024-01-02,1e400000000,Coffee,,,false\n",
    "NUL in a cell": CSV_HEAD + b"a1,2024-01-02,1.00,Cof\x00fee,,,false\n",
    "BOM and CRLF": b"\xef\xbb\xbf" + CSV_HEAD.replace(b"\n", b"\r\n") + b"a1,2024-13-45,x,,,,\r\n",
    "ragged rows": CSV_HEAD + b"a1\n,,,,,,,,,,,,\n",
    "header only twice": CSV_HEAD + CSV_HEAD,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(HOSTILE_CSV))
def test_a_hostile_csv_file_is_a_located_4xx(consented: SignedIn, name: str) -> None:
    response = upload(consented.client, HOSTILE_CSV[name], name="data.csv")
    assert 400 <= response.status_code < 500, (name, response.status_code, response.content[:300])
    errors = response.json()["errors"]
    assert errors
    assert all(e.get("attr") for e in errors), errors


@pytest.mark.django_db
def test_erasing_the_data_erases_the_ratings_keys() -> None:
    alice, [item] = person_with_items()
    assert rate_with_key(alice, item).status_code == HTTPStatus.CREATED
    assert alice.client.delete("/api/v1/consent?delete_data=true").status_code == HTTPStatus.OK
    grant_consent(alice.user)

    assert not Feedback.objects.filter(idempotency_key="k").exists()
    replay = rate_with_key(alice, item)
    assert replay.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_odd_spellings_of_ids_are_the_same_rule() -> None:
    alice, [item] = person_with_items()
    bob, _ = person_with_items()
    upper = str(alice.user.id).upper()
    assert alice.client.get(f"/api/v1/users/{upper}/profile").status_code == HTTPStatus.OK
    assert bob.client.get(f"/api/v1/users/{upper}/profile").status_code == HTTPStatus.NOT_FOUND
    for path in (
        f"/api/v1/users/{upper}%00/profile",
        f"/api/v1/users/{{{alice.user.id}}}/profile",
        f"/api/v1/users/{alice.user.id.hex}/profile",
        f"/api/v1/recommendations/{str(item.pk).upper()}",
        "/api/v1/recommendations/not-a-uuid",
        f"/api/v1/data/upload/{str(item.pk).upper()}",
    ):
        assert bob.client.get(path).status_code == HTTPStatus.NOT_FOUND, path


@pytest.mark.django_db
def test_a_rating_written_after_a_withdrawal_committed_is_refused() -> None:
    """The view checked consent before the withdrawal committed; the write checks it again
    under the user's row lock, as a recompute does, and writes nothing."""
    alice, [item] = person_with_items()
    checked = User.objects.get(pk=alice.user.pk)  # loaded while consenting
    assert alice.client.delete("/api/v1/consent").status_code == HTTPStatus.OK

    with pytest.raises(ConsentRequired):
        feedback_record(user=checked, recommendation=item, rating="helpful", comment="")
    assert not Feedback.objects.filter(user=alice.user).exists()


@pytest.mark.django_db
def test_a_body_that_is_not_multipart_is_a_4xx(consented: SignedIn) -> None:
    for content_type in ("application/json", "text/csv", "multipart/form-data"):
        response = consented.client.generic(
            "POST", "/api/v1/data/upload", '{"accounts": []}', content_type=content_type
        )
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
