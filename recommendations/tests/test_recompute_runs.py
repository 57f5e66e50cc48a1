"""``manage.py recompute --all``: every consenting user once, in chunks; idempotent; resumable
after an interruption; a chunk skips who withdrew; workers' chunks go through the broker."""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from io import StringIO
from typing import Any

import pytest
import redis
from django.core.management import CommandError

from consent.services import consent_revoke
from recommendations import runs
from recommendations.models import PersonaAssignment, Recommendation, SignalSnapshot
from recommendations.tasks import recompute_chunk
from tests.support.clients import sign_in
from tests.support.commits import call_command_committed, committed
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from tests.support.insights import seed, stored

pytestmark = pytest.mark.django_db

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def recomputed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids each chunk recomputes, in order (the real recompute still runs)."""
    calls: list[str] = []
    real = runs.user_recompute

    def recording(*, user_id: uuid.UUID) -> dict[str, Any]:
        calls.append(str(user_id))
        return real(user_id=user_id)

    monkeypatch.setattr(runs, "user_recompute", recording)
    return calls


def consenting(count: int) -> list[str]:
    return sorted(str(grant_consent(UserFactory.create()).pk) for _ in range(count))


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command_committed("recompute", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_consenting_user_once_and_never_a_withdrawn_one(recomputed: list[str]) -> None:
    users = consenting(7)
    UserFactory.create()  # never consented
    withdrawn = grant_consent(UserFactory.create())
    with committed():
        consent_revoke(user=withdrawn, delete_data=False)

    out, err = run("--all", "--chunk-size", "3")

    assert sorted(recomputed) == users  # each once, in three chunks of 3, 3 and 1
    assert out.strip() == "recomputed 7 users"
    assert "7 users in 3 chunks of 3" in err
    assert "7/7" in err  # the progress bar's last state


def test_a_second_run_leaves_the_same_rows(consented: Any) -> None:
    seed(consented)
    other = sign_in(grant_consent(UserFactory.create()))
    seed(other, archetype_index=2)
    people = [consented.user, other.user]

    def rows() -> list[Any]:
        return [
            (
                stored(Recommendation.objects.filter(user=user)),
                sorted(Recommendation.objects.filter(user=user).values_list("pk", flat=True)),
                sorted(SignalSnapshot.objects.filter(user=user).values_list("window", "data")),
                PersonaAssignment.objects.filter(user=user).count(),
            )
            for user in people
        ]

    run("--all")
    first = rows()
    run("--all")

    assert rows() == first
    assert all(recs for recs, *_ in first)


def test_a_run_resumes_after_an_interruption(
    recomputed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    users = consenting(5)
    real = runs.user_recompute

    def crash_on_the_fourth(*, user_id: uuid.UUID) -> dict[str, Any]:
        if len(recomputed) == 3:
            raise RuntimeError("the worker died")
        return real(user_id=user_id)

    monkeypatch.setattr(runs, "user_recompute", crash_on_the_fourth)
    with pytest.raises(RuntimeError):
        run("--all", "--chunk-size", "2", "--run-id", "nightly-1")
    assert recomputed == users[:3]  # chunk 1 done; chunk 2 of 3 died at its 2nd user
    monkeypatch.setattr(runs, "user_recompute", real)
    recomputed.clear()

    out, err = run("--all", "--run-id", "nightly-1")

    # Chunk 1 is skipped; chunk 2 (interrupted) and chunk 3 run.
    assert "nightly-1 (resumed): 5 users in 3 chunks of 2, 1 done" in err
    assert recomputed == users[2:]
    assert out.strip() == "recomputed 3 users"


def test_a_chunk_skips_who_withdrew_after_it_was_enqueued(
    recomputed: list[str], consented: Any
) -> None:
    seed(consented)
    stays = sign_in(grant_consent(UserFactory.create()))
    seed(stays, archetype_index=3)
    ids = [str(consented.user.pk), str(stays.user.pk)]
    with committed():
        consent_revoke(user=consented.user, delete_data=False)
    kept = stored(Recommendation.objects.filter(user=consented.user))
    Recommendation.objects.filter(user=stays.user, status="pending").delete()

    summary = recompute_chunk.delay(ids).get()

    assert summary | {"ms": 0} == {
        "run_id": None,
        "chunk": 1,
        "chunks": 1,
        "users": 2,
        "recomputed": 1,
        "skipped": 1,
        "ms": 0,
    }
    assert stored(Recommendation.objects.filter(user=consented.user)) == kept
    assert Recommendation.objects.filter(user=stays.user, status="pending").exists()


def test_each_chunk_logs_the_run_progress(caplog: pytest.LogCaptureFixture) -> None:
    users = consenting(3)
    plan, resumed = runs.run_plan(run_id="logged", size=2)
    assert (resumed, plan.chunks, plan.users) == (False, 2, 3)

    with caplog.at_level(logging.INFO, logger="recommendations.runs"):
        for index, ids in plan.pending():
            recompute_chunk.delay(ids, plan.run_id, index, plan.chunks)
        recompute_chunk.delay(plan.user_ids(1), plan.run_id, 1, plan.chunks)  # redelivered

    lines = [
        (r.chunk, r.chunks, r.done, r.users)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.message == "recompute chunk"
    ]
    assert lines == [(1, 2, 1, 2), (2, 2, 2, 1), (2, 2, 2, 1)]  # counted once per chunk
    assert all(isinstance(r.ms, float) for r in caplog.records if hasattr(r, "ms"))
    assert [u for index in range(plan.chunks) for u in plan.user_ids(index)] == users


def forget_producers(app: Any) -> None:
    """Drop the app's broker connections and producers (an eager task made them for the
    settings' broker), so the next message goes to the broker configured now."""
    app._pool = None
    app.amqp._producer_pool = None


def test_with_a_broker_the_chunks_are_enqueued() -> None:
    users = consenting(5)
    broker = redis.Redis.from_url(BROKER)
    broker.delete("celery")
    app = recompute_chunk.app
    before = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    forget_producers(app)
    app.conf.update(task_always_eager=False, broker_url=BROKER)
    try:
        out, _ = run("--all", "--chunk-size", "2", "--run-id", "queued")
        messages = [json.loads(m) for m in broker.lrange("celery", 0, -1)]
    finally:
        app.conf.update(before)
        forget_producers(app)
        broker.delete("celery")

    assert out.startswith("enqueued 3 chunks of 5 users (run queued)")
    bodies = [json.loads(base64.b64decode(m["body"]))[0] for m in messages]
    assert [m["headers"]["task"] for m in messages] == ["recommendations.recompute_chunk"] * 3
    assert sorted(u for body in bodies for u in body[0]) == users
    assert [body[1:] for body in sorted(bodies, key=lambda b: b[2])] == [
        ["queued", 0, 3],
        ["queued", 1, 3],
        ["queued", 2, 3],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chunk-size", "0"], "--chunk-size must be between 1 and 5000, not 0"),
        (["--all", "--chunk-size", "5001"], "--chunk-size must be between 1 and 5000, not 5001"),
        (["--all", "--run-id", "no spaces"], "--run-id must be 1 to 64 letters"),
        (["--user", "a@example.com", "--all"], "--user recomputes the users named"),
        (["--user", "a@example.com", "--in-process"], "--user recomputes the users named"),
        (["--user", "nobody@example.invalid"], "No user nobody@example.invalid"),
        (["--chunk-size", "many"], "invalid int value"),
    ],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_resumed_run_keeps_its_chunk_size() -> None:
    consenting(2)
    run("--all", "--chunk-size", "1", "--run-id", "sized")

    with pytest.raises(CommandError, match="planned with --chunk-size 1"):
        run("--all", "--chunk-size", "2", "--run-id", "sized")


def test_a_user_who_consents_after_the_plan_is_in_some_chunk(recomputed: list[str]) -> None:
    """The plan fixes each chunk's first id; a user who consents afterwards falls into some
    chunk's range, also with an id below the first chunk's."""
    consenting(4)
    plan, _ = runs.run_plan(run_id="late-joiner", size=2)
    early = UserFactory.create(id=uuid.UUID(int=1))  # sorts before every planned user
    late = UserFactory.create(id=uuid.UUID(int=(1 << 128) - 1))  # and after
    grant_consent(early)
    grant_consent(late)

    covered = [user_id for _, ids in plan.pending() for user_id in ids]

    assert str(early.pk) in covered
    assert str(late.pk) in covered
