"""``manage.py recompute [--user EMAIL_OR_ID ...] | [--all] [--chunk-size N] [--run-id ID]
[--in-process]``: recompute insights.

``--user`` recomputes the users named, here and now. ``--all`` (also what no argument does)
recomputes every consenting user as a run of chunks (``recommendations.runs``): with a broker
configured each chunk is a Celery task and every worker logs one line per chunk (done/total,
users, ms); without one (Celery eager), or with ``--in-process``, the chunks run here under a
progress bar. A run interrupted or failed part-way is resumed with ``--run-id``: the chunks
done are skipped.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.models import User
from recommendations.runs import MAX_CHUNK_SIZE, chunk_recompute, run_plan
from recommendations.services import user_recompute
from recommendations.tasks import recompute_chunk

RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Command(BaseCommand):
    help = "Recompute signals, personas and recommendations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", action="append", default=[], help="email or id; repeatable")
        parser.add_argument(
            "--all", action="store_true", help="every consenting user (the default)"
        )
        parser.add_argument(
            "--chunk-size", type=int, default=None, help="users per task (default 500)"
        )
        parser.add_argument("--run-id", default=None, help="resume this run (or name a new one)")
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="run the chunks here, with a progress bar, even when a broker is configured",
        )

    def handle(
        self,
        *args: Any,
        user: list[str],
        all: bool,  # noqa: A002 (the option's name)
        chunk_size: int | None,
        run_id: str | None,
        in_process: bool,
        **options: Any,
    ) -> None:
        if user:
            if all or chunk_size is not None or run_id is not None or in_process:
                raise CommandError(
                    "--user recomputes the users named, here and now: it takes none of "
                    "--all, --chunk-size, --run-id, --in-process"
                )
            named = [self._find(ref) for ref in user]
            for user_id in named:
                user_recompute(user_id=user_id)
            self.stdout.write(f"recomputed {len(named)} users")
            return
        size = 500 if chunk_size is None else chunk_size
        if not 1 <= size <= MAX_CHUNK_SIZE:
            raise CommandError(f"--chunk-size must be between 1 and {MAX_CHUNK_SIZE}, not {size}")
        if run_id is not None and not RUN_ID.match(run_id):
            raise CommandError("--run-id must be 1 to 64 letters, digits, '-' or '_'")
        plan, resumed = run_plan(run_id=run_id, size=size)
        if resumed and plan.size != size and chunk_size is not None:
            raise CommandError(
                f"run {plan.run_id} was planned with --chunk-size {plan.size}; "
                "leave --chunk-size out to resume it"
            )
        done = plan.done()
        self.stderr.write(
            f"run {plan.run_id} ({'resumed' if resumed else 'new'}): {plan.users} users in "
            f"{plan.chunks} chunks of {plan.size}, {len(done)} done; "
            f"resume with --run-id {plan.run_id}"
        )
        if in_process or recompute_chunk.app.conf.task_always_eager:
            self._run_here(plan)
        else:
            enqueued = users = 0
            for index, ids in plan.pending():
                recompute_chunk.delay(ids, plan.run_id, index, plan.chunks)
                enqueued += 1
                users += len(ids)
            self.stdout.write(
                f"enqueued {enqueued} chunks of {users} users (run {plan.run_id}); each worker "
                "logs a 'recompute chunk' line per chunk"
            )

    def _run_here(self, plan: Any) -> None:
        started = time.perf_counter()
        recomputed = skipped = 0
        # tqdm redraws its line with carriage returns: the wrapper must not end each write.
        self.stderr.ending = ""
        try:
            with tqdm(total=plan.users, unit="user", file=self.stderr, dynamic_ncols=True) as bar:
                for index, ids in plan.pending():
                    summary = chunk_recompute(
                        user_ids=ids, run_id=plan.run_id, index=index, chunks=plan.chunks
                    )
                    recomputed += summary["recomputed"]
                    skipped += summary["skipped"]
                    bar.update(len(ids))
        finally:
            self.stderr.ending = "\n"
        line = f"recomputed {recomputed} users"
        if skipped:
            line += f" ({skipped} skipped: no longer consenting)"
        self.stdout.write(line)
        self.stderr.write(f"run {plan.run_id} done in {time.perf_counter() - started:.1f} s")

    def _find(self, ref: str) -> uuid.UUID:
        try:
            found = User.objects.filter(pk=uuid.UUID(ref)).first()
        except ValueError:
            found = User.objects.filter(email__iexact=ref).first()
        if found is None:
            raise CommandError(f"No user {ref}")
        return found.pk
