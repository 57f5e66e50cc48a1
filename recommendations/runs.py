"""A recompute of every consenting user as a *run*: the users cut into chunks by id, each chunk
recomputed by one Celery task (``recommendations.tasks.recompute_chunk``), and the run's
progress kept in the cache so that a run started again under its id skips the chunks done.

The plan of a run is the first user id of each chunk (every ``size``-th consenting user, in id
order), fixed when the run starts: chunk ``k`` is the consenting users from ``starts[k]`` up to
``starts[k + 1]`` (the first chunk from the lowest id, the last to the highest). Users who
consent later fall into some chunk's range and are recomputed if that chunk has not run yet;
users who withdraw are skipped (``user_recompute`` checks consent,
and again under a row lock before it writes). The progress is a cache entry per chunk done
and a counter, kept ``RUN_TTL`` seconds. Losing them (a flushed cache) costs time, never
correctness: a recompute of unchanged data writes nothing, so doing a chunk twice is cheap and
leaves the same rows.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import F, Window
from django.db.models.functions import Mod, RowNumber

from accounts.models import ConsentStatus, User
from recommendations.services import user_recompute

logger = logging.getLogger(__name__)

RUN_TTL = 7 * 24 * 3600  # a run can be resumed for a week
MAX_CHUNK_SIZE = 5000  # at ~20 ms a user, well inside a task's time limit


def _key(run_id: str, name: str) -> str:
    return f"recompute:run:{run_id}:{name}"


def _consenting() -> Any:
    return User.objects.filter(consent_status=ConsentStatus.GRANTED)


@dataclass(frozen=True)
class Plan:
    """The chunks of one run: ``starts[k]`` is the first user id of chunk ``k``."""

    run_id: str
    size: int
    starts: list[str]
    users: int  # consenting users when the run was planned

    @property
    def chunks(self) -> int:
        return len(self.starts)

    def user_ids(self, index: int) -> list[str]:
        """The consenting users of chunk ``index`` now, in id order."""
        users = _consenting()
        if index > 0:  # the first chunk has no lower bound: it takes ids below every start
            users = users.filter(pk__gte=self.starts[index])
        if index + 1 < len(self.starts):
            users = users.filter(pk__lt=self.starts[index + 1])
        return [str(pk) for pk in users.order_by("pk").values_list("pk", flat=True)]

    def done(self) -> set[int]:
        """The chunks of this run done so far."""
        keys = {_key(self.run_id, f"chunk:{index}"): index for index in range(self.chunks)}
        return {keys[key] for key in cache.get_many(list(keys))}

    def pending(self) -> Iterator[tuple[int, list[str]]]:
        """(index, user ids) of each chunk not done yet, in order."""
        done = self.done()
        for index in range(self.chunks):
            if index not in done:
                yield index, self.user_ids(index)


def run_plan(*, run_id: str | None, size: int) -> tuple[Plan, bool]:
    """The plan of run ``run_id`` if the cache still has it (True: resumed), else a new plan
    under that id (or a new id) of every consenting user now, ``size`` to a chunk."""
    if run_id is not None:
        stored = cache.get(_key(run_id, "plan"))
        if stored is not None:
            return Plan(run_id=run_id, **stored), True
    run_id = run_id or uuid.uuid4().hex[:12]
    # Every size-th consenting user in id order, in one query (a row per chunk, not per user).
    numbered = _consenting().annotate(n=Window(RowNumber(), order_by=F("pk").asc()))
    firsts = numbered.annotate(place=Mod(F("n") - 1, size)).filter(place=0).order_by("pk")
    starts = [str(pk) for pk in firsts.values_list("pk", flat=True)]
    users = _consenting().count()
    stored = {"size": size, "starts": starts, "users": users}
    cache.set(_key(run_id, "plan"), stored, timeout=RUN_TTL)
    return Plan(run_id=run_id, **stored), False


def chunk_recompute(
    *, user_ids: list[str], run_id: str | None = None, index: int = 0, chunks: int = 1
) -> dict[str, Any]:
    """Recompute each user of one chunk (a user who no longer consents is skipped), then mark
    the chunk done in its run and log one line of the run's progress. Idempotent."""
    started = time.perf_counter()
    recomputed = skipped = 0
    for user_id in user_ids:
        result = user_recompute(user_id=uuid.UUID(str(user_id)))
        if result.get("skipped"):
            skipped += 1
        else:
            recomputed += 1
    summary: dict[str, Any] = {
        "run_id": run_id,
        "chunk": index + 1,
        "chunks": chunks,
        "users": len(user_ids),
        "recomputed": recomputed,
        "skipped": skipped,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if run_id is not None:
        # Counted once per chunk, however often a chunk is delivered.
        if cache.add(_key(run_id, f"chunk:{index}"), summary, timeout=RUN_TTL):
            cache.add(_key(run_id, "done"), 0, timeout=RUN_TTL)
            summary["done"] = cache.incr(_key(run_id, "done"))
        else:
            summary["done"] = cache.get(_key(run_id, "done"))
    logger.info("recompute chunk", extra=summary)
    return summary
