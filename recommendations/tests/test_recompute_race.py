"""A recompute in flight when the person withdraws consent and erases their data writes
nothing that outlives the erasure (two connections on PostgreSQL, a barrier between)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection

from recommendations import services
from recommendations.models import Recommendation, SignalSnapshot, UserInsightState
from recommendations.synthetic import synthetic_user
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.commits import paused_after
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_erasure_during_a_recompute_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person: SignedIn = sign_in(grant_consent(UserFactory.create()))
    assert upload(person.client, json.dumps(synthetic_user(0, 3).body).encode()).status_code == 202

    def recompute() -> None:
        services.user_recompute(user_id=person.user.id)

    with paused_after(monkeypatch, services, "recompute_load", recompute) as recomputing:
        # Loaded: the person erases now; the recompute writes once it is done.
        erased = person.client.delete("/api/v1/consent?delete_data=true")

    assert recomputing.error is None
    assert erased.status_code == HTTPStatus.OK
    assert SignalSnapshot.objects.filter(user=person.user).count() == 0
    assert Recommendation.objects.filter(user=person.user).count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_erasure_after_finding_no_data_leaves_no_state_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recompute read the person's consent and data, and found nothing posted (the
    no-data path); they erase before it writes: it must not write analytics' state row
    back."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person: SignedIn = sign_in(grant_consent(UserFactory.create()))
    body = synthetic_user(0, 3).body
    pending = {**body, "transactions": [{**t, "pending": True} for t in body["transactions"]]}
    assert upload(person.client, json.dumps(pending).encode()).status_code == 202
    assert UserInsightState.objects.filter(user=person.user).exists()

    def recompute() -> dict[str, Any]:
        return services.user_recompute(user_id=person.user.id)

    with paused_after(monkeypatch, services, "recompute_load", recompute) as recomputing:
        erased = person.client.delete("/api/v1/consent?delete_data=true")

    assert recomputing.error is None
    assert recomputing.result == {"skipped": True}
    assert erased.status_code == HTTPStatus.OK
    assert not UserInsightState.objects.filter(user=person.user).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_recompute_compares_with_what_another_wrote_since_it_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two recomputes of one person: the one that loaded first writes last, and compares
    with what the other stored (read again under the lock), so it writes nothing twice."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person: SignedIn = sign_in(grant_consent(UserFactory.create()))
    assert upload(person.client, json.dumps(synthetic_user(0, 3).body).encode()).status_code == 202
    made = sorted(
        Recommendation.objects.filter(user=person.user, status="pending").values_list(
            "slug", "digest"
        )
    )
    Recommendation.objects.filter(user=person.user, status="pending").delete()

    def recompute() -> dict[str, Any]:
        return services.user_recompute(user_id=person.user.id)

    load = services.recompute_load
    with paused_after(monkeypatch, services, "recompute_load", recompute) as first:
        monkeypatch.setattr(services, "recompute_load", load)  # this one is not held
        second = services.user_recompute(user_id=person.user.id)

    assert first.error is None
    assert second["written"]["recommendations_inserted"] == len(made)
    assert first.result["written"]["recommendations_inserted"] == 0
    assert (
        sorted(
            Recommendation.objects.filter(user=person.user, status="pending").values_list(
                "slug", "digest"
            )
        )
        == made
    )
