"""A recompute in flight when the person withdraws consent and erases their data writes
nothing that outlives the erasure (two connections on PostgreSQL, a barrier between)."""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection, connections

from recommendations import services
from recommendations.models import Recommendation, SignalSnapshot
from recommendations.synthetic import synthetic_user
from tests.support.clients import SignedIn, sign_in, upload
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_erasure_during_a_recompute_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections and a row lock")
    person: SignedIn = sign_in(grant_consent(UserFactory.create()))
    assert upload(person.client, json.dumps(synthetic_user(0, 3).body).encode()).status_code == 202
    barrier = threading.Barrier(2, timeout=20)
    real_load = services.user_data_load
    errors: list[BaseException] = []

    def paused_load(**kwargs: Any) -> Any:
        data = real_load(**kwargs)
        barrier.wait()  # loaded: the person erases now
        barrier.wait()  # erased: the recompute writes now
        return data

    def recompute() -> None:
        try:
            services.user_recompute(user_id=person.user.id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    monkeypatch.setattr(services, "user_data_load", paused_load)
    worker = threading.Thread(target=recompute)
    worker.start()
    barrier.wait()
    erased = person.client.delete("/api/v1/consent?delete_data=true")
    barrier.wait()
    worker.join()

    assert errors == []
    assert erased.status_code == HTTPStatus.OK
    assert SignalSnapshot.objects.filter(user=person.user).count() == 0
    assert Recommendation.objects.filter(user=person.user).count() == 0
