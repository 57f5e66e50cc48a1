"""Synthetic users at scale, for ``manage.py bench_scale``: written with PostgreSQL COPY.

User ``i`` (0-based) is ``bench-user-<i>@example.test`` with the id ``5eed0001-0000-4000-8000-<i>``
(the index in decimal digits, which are hex digits too); every row of a user is written in
the same transaction as the user, in batches, so a user that exists is complete and seeding
is idempotent: a run seeds the indices in ``[0, N)`` that are missing, nothing else.

Two kinds of user:

- **real** (the first ``real`` indices): the Plaid-shaped data of
  ``recommendations.synthetic.synthetic_user`` (accounts, about 200 transactions,
  liabilities), then the engine's own ``user_recompute``; their derived rows are the
  engine's, and a recompute of them is a real one;
- **copied** (the rest): accounts, liabilities, signal snapshots, personas and
  recommendations copied from a real user (template ``i % templates``), under the user's own
  ids; no transactions.

On top, for everyone and deterministically per index: a spread of review outcomes (pending,
approved, rejected, flagged, edited with an audited revision), feedback on approved items,
processed uploads (and a few failed or rejected ones), persona history, withdrawn consent for
a fraction, and age bands (``SyntheticDemographic``) for a quarter. Rows stream to COPY in
chunks: memory is bounded by one batch, whatever N.

Over 400 lines on purpose: bench tooling, not served code; one module holds every table's
synthetic row so that a seeded user is complete and the whole spread reads in one place.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import ConsentStatus, Role, User
from accounts.users.services import user_set_role
from consent.models import ConsentAction, ConsentRecord
from operator_console.models import RecommendationRevision, SyntheticDemographic
from recommendations.engine.choose import DISCLAIMER
from recommendations.models import (
    Feedback,
    PersonaAssignment,
    Recommendation,
    RecommendationStatus,
    SignalSnapshot,
)
from recommendations.services import user_recompute
from recommendations.synthetic import AGE_BANDS, ARCHETYPES, synthetic_user
from uploads.models import Account, DataUpload, Liability, Transaction, UploadStatus
from uploads.services import ACCOUNT_FIELDS, LIABILITY_FIELDS, TRANSACTION_FIELDS
from uploads.validation import parse_upload

PASSWORD = "bench-scale-password-Ra7!x"  # noqa: S105 (throwaway users on a benchmark database)
SEED = 42  # of the synthetic Plaid data; fixed, so the same index is always the same person
OPERATORS = 3

# Ids: 5eed<kind>-<n>-4000-8000-<index>; the kinds of row keyed this way.
USER, GRANT, REVOKE, UPLOAD, FAILED_UPLOAD, RECOMMENDATION, OPERATOR = range(1, 8)

# The spread (fractions of users, or of recommendations): what a live service would hold.
WITHDRAWN = 33  # every 33rd user withdrew consent (3 %; data kept, invisible to staff)
WITH_AGE_BAND = 4  # every 4th user is synthetic with an age band (fairness analytics)
PERSONA_HISTORY = 0.25  # users whose 30-day persona changed once before
EXTRA_UPLOAD = 0.04  # users with a second, failed or rejected, upload
PENDING, APPROVED = 0.35, 0.85  # cumulative: 35 % pending, 50 % approved, 15 % rejected
FLAGGED = 0.04
EDITED = 0.03
FEEDBACK = 0.30  # of approved items
HELPFUL = 0.70
HISTORY_DAYS = 90  # recommendations spread over the last 90 days


def bench_id(kind: int, index: int, n: int = 0) -> str:
    return f"5eed{kind:04x}-{n:04x}-4000-8000-{index:012d}"


def bench_email(index: int) -> str:
    return f"bench-user-{index:06d}@example.test"


def operator_email(n: int) -> str:
    return f"bench-operator-{n}@example.test"


# --- COPY ---------------------------------------------------------------------------------


class Escaped(str):
    """A value already in COPY's text format (a template's JSON, escaped once, copied often)."""


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """``value`` as a field of COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, Escaped):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, cls=DjangoJSONEncoder)
    return str(value).translate(_COPY_ESCAPES)


def escaped(value: Any) -> Escaped:
    return Escaped(copy_text(value))


CHUNK = 1 << 20  # bytes per write to COPY


def copy_rows(
    cursor: Any, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Stream ``rows`` (values of ``fields``, in order) into ``model``'s table with COPY, a
    chunk at a time; returns how many."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(cast(models.Field, model._meta.get_field(name)).column) for name in fields
    )
    count, size, lines = 0, 0, []
    with cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            line = "\t".join(map(copy_text, row)) + "\n"
            lines.append(line)
            size += len(line)
            count += 1
            if size >= CHUNK:
                copy.write("".join(lines))
                lines.clear()
                size = 0
        if lines:
            copy.write("".join(lines))
    return count


# --- what each user is ----------------------------------------------------------------------


@dataclass
class Template:
    """A real user's derived rows, escaped once, to be copied under other users' ids."""

    archetype: str
    accounts: list[dict[str, Any]]
    liabilities: list[dict[str, Any]]
    snapshots: list[tuple[Any, ...]]  # window, as_of, data, inputs
    personas: list[tuple[Any, ...]]  # window, persona, matched, evaluations, reason, as_of
    recommendations: list[tuple[Any, ...]]  # type, slug, title, content, rationale, persona,
    # window, score, decision_trace, digest
    upload: dict[str, Any]  # file_size, sha256, account_ids, counts


@dataclass
class Plan:
    """Everything decided about user ``index`` before a row is written."""

    index: int
    rng: random.Random
    now: datetime
    granted: bool
    created_at: datetime
    computed_at: datetime
    age_band: str | None
    archetype: str
    extra_upload: str | None  # failed | rejected | None
    history: bool
    template: Template | None = None
    parsed: Any = None  # a real user's ParsedUpload
    upload: dict[str, Any] = field(default_factory=dict)  # file_size sha256 account_ids counts

    @property
    def user_id(self) -> str:
        return bench_id(USER, self.index)

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.template.accounts if self.template else self.parsed.accounts

    @property
    def liabilities(self) -> list[dict[str, Any]]:
        if self.template:
            return self.template.liabilities
        return [r for r in self.parsed.liabilities if r["account_id"]]  # as ingestion keeps

    @property
    def copied(self) -> Template:
        """The template of a copied user (never asked of a real one)."""
        if self.template is None:
            raise ValueError(f"user {self.index} is real: it has no template")
        return self.template


def plan_user(index: int, now: datetime) -> Plan:
    rng = random.Random(SEED * 1_000_003 + index)  # noqa: S311 (synthetic data, not secrets)
    joined = now - timedelta(days=rng.uniform(HISTORY_DAYS, 720))
    computed = now - timedelta(days=rng.uniform(0, HISTORY_DAYS), seconds=rng.uniform(0, 86400))
    extra = rng.random()
    return Plan(
        index=index,
        rng=rng,
        now=now,
        granted=index % WITHDRAWN != WITHDRAWN // 4,
        created_at=joined,
        computed_at=computed,
        age_band=rng.choice(AGE_BANDS) if index % WITH_AGE_BAND == 0 else None,
        archetype=ARCHETYPES[index % len(ARCHETYPES)],
        extra_upload=None
        if extra >= EXTRA_UPLOAD
        else ("failed" if extra < EXTRA_UPLOAD / 2 else "rejected"),
        history=rng.random() < PERSONA_HISTORY,
    )


@dataclass
class Outcome:
    """How review went for one recommendation."""

    status: str
    flagged: bool
    edited: bool
    decided_at: datetime | None
    rating: str | None


def review_outcome(rng: random.Random, created_at: datetime, now: datetime) -> Outcome:
    draw = rng.random()
    status = (
        RecommendationStatus.PENDING
        if draw < PENDING
        else RecommendationStatus.APPROVED
        if draw < APPROVED
        else RecommendationStatus.REJECTED
    )
    decided = (
        None
        if status == RecommendationStatus.PENDING
        else min(now, created_at + timedelta(hours=rng.uniform(0.2, 72)))
    )
    rated = status == RecommendationStatus.APPROVED and rng.random() < FEEDBACK
    return Outcome(
        status=status,
        flagged=rng.random() < FLAGGED,
        edited=status != RecommendationStatus.REJECTED and rng.random() < EDITED,
        decided_at=decided,
        rating=("helpful" if rng.random() < HELPFUL else "not_helpful") if rated else None,
    )


# --- rows common to both kinds of user ------------------------------------------------------


def fields(names: str) -> tuple[str, ...]:
    """COPY's columns, as model field names separated by spaces."""
    return tuple(names.split())


def user_rows(plans: list[Plan], password: str) -> Iterator[tuple[Any, ...]]:
    version = settings.CONSENT_VERSION
    for p in plans:
        yield (
            p.user_id,
            password,
            False,
            bench_email(p.index),
            Role.USER,
            ConsentStatus.GRANTED if p.granted else ConsentStatus.REVOKED,
            version,
            "[]",
            p.created_at,
            True,
            p.created_at,
            p.now,
        )


USER_FIELDS = fields(
    "id password is_superuser email role consent_status consent_version "
    "linked_providers email_verified_at is_active created_at updated_at"
)


def consent_rows(plans: list[Plan]) -> Iterator[tuple[Any, ...]]:
    version = settings.CONSENT_VERSION
    for p in plans:
        yield bench_id(GRANT, p.index), p.user_id, ConsentAction.GRANT, version, False, p.created_at
        if not p.granted:
            withdrawn = p.computed_at + timedelta(days=1)
            yield (
                bench_id(REVOKE, p.index),
                p.user_id,
                ConsentAction.REVOKE,
                version,
                False,
                withdrawn,
            )


def demographic_rows(plans: list[Plan]) -> Iterator[tuple[Any, ...]]:
    for p in plans:
        if p.age_band:
            yield p.user_id, p.age_band, p.archetype


UPLOAD_FIELDS = fields(
    "id user_id file_name file_size file_format storage_key sha256 status account_ids "
    "counts validation error attempts created_at started_at processed_at"
)


def upload_rows(plans: list[Plan]) -> Iterator[Any]:
    for p in plans:
        upload = p.upload
        sent = p.computed_at - timedelta(seconds=p.rng.uniform(1, 600))
        latency = timedelta(milliseconds=p.rng.lognormvariate(6.5, 0.8))  # median ~0.7 s
        upload_id = bench_id(UPLOAD, p.index)
        yield (
            upload_id,
            p.user_id,
            "plaid.json",
            upload["file_size"],
            "json",
            f"uploads/{p.user_id}/{upload_id}/plaid.json",
            upload["sha256"],
            UploadStatus.PROCESSED,
            upload["account_ids"],
            upload["counts"],
            {"errors": [], "error_count": 0},
            "",
            1,
            sent,
            sent + latency / 10,
            sent + latency,
        )
        if p.extra_upload:
            failed_id = bench_id(FAILED_UPLOAD, p.index)
            later = sent + timedelta(hours=p.rng.uniform(1, 48))
            rejected = p.extra_upload == "rejected"
            error = {
                "code": "invalid",
                "detail": "Enter a valid date.",
                "attr": "transactions.3.date",
            }
            yield (
                failed_id,
                p.user_id,
                "export.csv" if rejected else "plaid.json",
                upload["file_size"] // 3,
                "csv" if rejected else "json",
                "" if rejected else f"uploads/{p.user_id}/{failed_id}/plaid.json",
                hashlib.sha256(failed_id.encode()).hexdigest(),
                UploadStatus.REJECTED if rejected else UploadStatus.FAILED,
                [],
                {},
                {"errors": [error], "error_count": 1}
                if rejected
                else {"errors": [], "error_count": 0},
                "" if rejected else "storage_unavailable: the file store did not answer.",
                0 if rejected else 5,
                later,
                None if rejected else later,
                later + timedelta(seconds=2),
            )


def plaid_rows(
    plans: list[Plan],
    records: Callable[[Plan], list[dict[str, Any]]],
    fields: Sequence[str],
    now: datetime,
) -> Iterator[tuple[Any, ...]]:
    for p in plans:
        for record in records(p):
            yield (p.user_id, *(record[name] for name in fields), now)


REVISION_FIELDS = fields(
    "recommendation_id revision title content rationale edited_by_id reason edited_at"
)
EDIT_REASON = "Plainer wording"
FEEDBACK_FIELDS = fields(
    "recommendation_id user_id rating comment created_by_key created_at updated_at"
)
PERSONA_FIELDS = fields("user window persona matched evaluations reason as_of assigned_at")
RECOMMENDATION_FIELDS = fields(
    "id user type slug title content rationale disclaimer persona window score status "
    "decision_trace created_at approved_at approved_by decided_at decision_reason "
    "flagged revision digest"
)
# A real user's derived rows, JSON as the database prints it (tables: the models' db_table).
TEMPLATE_SNAPSHOTS = (
    'SELECT "window", as_of, data::text, inputs::text FROM recommendations_signalsnapshot '
    'WHERE user_id = %s ORDER BY "window"'
)
TEMPLATE_PERSONAS = (
    'SELECT DISTINCT ON ("window") "window", persona, matched::text, evaluations::text, '
    "reason, as_of FROM recommendations_personaassignment WHERE user_id = %s "
    'ORDER BY "window", assigned_at DESC, id DESC'
)
TEMPLATE_RECOMMENDATIONS = (
    'SELECT type, slug, title, content, rationale, persona, "window", score, '
    "decision_trace::text, digest FROM recommendations_recommendation WHERE user_id = %s "
    "ORDER BY slug"
)


def revision_and_feedback(
    cursor: Any,
    decided: list[tuple[Plan, str, Outcome, tuple[str, str, str]]],
    operators: list[str],
) -> None:
    """The audited revisions of edited items and the feedback on approved ones."""
    copy_rows(
        cursor,
        RecommendationRevision,
        REVISION_FIELDS,
        (
            (
                rec_id,
                1,
                *text,
                operators[p.index % len(operators)],
                EDIT_REASON,
                o.decided_at or p.computed_at,
            )
            for p, rec_id, o, text in decided
            if o.edited
        ),
    )
    copy_rows(
        cursor,
        Feedback,
        FEEDBACK_FIELDS,
        (
            (rec_id, p.user_id, o.rating, "", False, at, at)
            for p, rec_id, o, _ in decided
            if o.rating and o.decided_at
            for at in [o.decided_at + timedelta(hours=p.rng.uniform(1, 240))]
        ),
    )


# --- seeding --------------------------------------------------------------------------------


def missing_ranges(users: int) -> list[tuple[int, int]]:
    """The indices in [0, users) without a user, as inclusive (first, last) ranges."""
    prefix = bench_id(USER, 0)[:-12]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT min(i), max(i) FROM (
                SELECT i, i - row_number() OVER (ORDER BY i) AS run
                FROM generate_series(0, %s - 1) AS i
                WHERE NOT EXISTS (
                    SELECT 1 FROM {User._meta.db_table} AS u
                    WHERE u.id = (%s || lpad(i::text, 12, '0'))::uuid
                )
            ) AS missing GROUP BY run ORDER BY 1
            """,  # noqa: S608 (a table name from the model, values bound)
            [users, prefix],
        )
        return [(int(first), int(last)) for first, last in cursor.fetchall()]


def batches(ranges: list[tuple[int, int]], low: int, high: int, size: int) -> Iterator[range]:
    """The missing indices within [low, high), ``size`` at a time."""
    for first, last in ranges:
        start, stop = max(first, low), min(last + 1, high)
        for begin in range(start, stop, size):
            yield range(begin, min(begin + size, stop))


def operators_ensure() -> list[str]:
    """The bench's operators (decisions and edits name them); created once."""
    ids = []
    for n in range(OPERATORS):
        user = User.objects.filter(id=bench_id(OPERATOR, n)).first()
        if user is None:
            user = User.objects.create_user(operator_email(n), PASSWORD, id=bench_id(OPERATOR, n))
        if user.role != Role.OPERATOR:
            user_set_role(user=user, role=Role.OPERATOR)
        ids.append(str(user.id))
    return ids


@dataclass
class Seeder:
    """Seeds the missing users of [0, ``users``); ``real`` of them with real transactions."""

    users: int
    real: int
    batch: int = 5000
    real_batch: int = 250
    templates_max: int = 500
    progress: Callable[[str], None] = print
    password: str = ""
    operators: list[str] = field(default_factory=list)
    templates: list[Template] = field(default_factory=list)
    seeded: int = 0
    started: float = 0.0

    def run(self) -> int:
        """Seed what is missing; returns how many users were added."""
        ranges = missing_ranges(self.users)
        missing = sum(last - first + 1 for first, last in ranges)
        if not missing:
            self.progress(f"all {self.users} bench users exist already: nothing to seed")
            return 0
        self.progress(f"{missing} of {self.users} bench users to seed")
        self.started = time.perf_counter()
        self.password = make_password(PASSWORD)  # one hash (bcrypt is 0.25 s), for every user
        self.operators = operators_ensure()
        real = min(self.real, self.users)
        for indices in batches(ranges, 0, real, self.real_batch):
            self._real_batch(indices)
        if real < self.users:
            self.templates = self._templates(real)
            if not self.templates:
                raise RuntimeError("no real user has derived data to copy: seed real users")
            for indices in batches(ranges, real, self.users, self.batch):
                self._copied_batch(indices)
        return self.seeded

    def _done(self, count: int) -> None:
        self.seeded += count
        elapsed = time.perf_counter() - self.started
        self.progress(f"  {self.seeded} users seeded, {elapsed:.0f} s")

    @contextmanager
    def _batch(self, plans: list[Plan]) -> Iterator[Any]:
        """One transaction for these users: the rows every user has, then the caller's."""
        now = plans[0].now
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor
            # Rows a re-run can write again: waiting for the WAL flush buys nothing.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            copy_rows(cursor, User, USER_FIELDS, user_rows(plans, self.password))
            copy_rows(
                cursor,
                ConsentRecord,
                ("id", "user_id", "action", "version", "data_deleted", "created_at"),
                consent_rows(plans),
            )
            copy_rows(
                cursor,
                SyntheticDemographic,
                ("user_id", "age_band", "archetype"),
                demographic_rows(plans),
            )
            copy_rows(cursor, DataUpload, UPLOAD_FIELDS, upload_rows(plans))
            copy_rows(
                cursor,
                Account,
                ("user", "account_id", *ACCOUNT_FIELDS, "updated_at"),
                plaid_rows(plans, lambda p: p.accounts, ("account_id", *ACCOUNT_FIELDS), now),
            )
            copy_rows(
                cursor,
                Liability,
                ("user", "kind", "account_id", *LIABILITY_FIELDS, "updated_at"),
                plaid_rows(
                    plans, lambda p: p.liabilities, ("kind", "account_id", *LIABILITY_FIELDS), now
                ),
            )
            yield cursor
        self._done(len(plans))

    def _real_batch(self, indices: range) -> None:
        now = timezone.now()
        plans = []
        for index in indices:
            plan = plan_user(index, now)
            body = json.dumps(synthetic_user(index, SEED).body).encode()
            plan.parsed = parse_upload(body, known_account_ids=set())
            plan.upload = {
                "file_size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "account_ids": plan.parsed.account_ids,
                "counts": {
                    kind: {"created": len(getattr(plan.parsed, kind)), "updated": 0, "removed": 0}
                    for kind in ("accounts", "transactions", "liabilities")
                },
            }
            plans.append(plan)
        with self._batch(plans) as cursor:
            copy_rows(
                cursor,
                Transaction,
                ("user", "transaction_id", *TRANSACTION_FIELDS, "updated_at"),
                plaid_rows(
                    plans,
                    lambda p: p.parsed.transactions,
                    ("transaction_id", *TRANSACTION_FIELDS),
                    now,
                ),
            )
            for plan in plans:
                if plan.granted:
                    user_recompute(user_id=uuid.UUID(plan.user_id))
            self._review_real(cursor, plans)

    def _review_real(self, cursor: Any, plans: list[Plan]) -> None:
        """The engine wrote every item pending, now: give them the spread, in the past."""
        by_user: dict[str, list[tuple[str, str, str, str]]] = {}
        for pk, user_id, title, content, rationale in (
            Recommendation.objects.filter(user_id__in=[p.user_id for p in plans])
            .order_by("user_id", "slug")
            .values_list("id", "user_id", "title", "content", "rationale")
        ):
            by_user.setdefault(str(user_id), []).append((str(pk), title, content, rationale))
        decided = []
        for p in plans:
            for rec_id, *text in by_user.get(p.user_id, []):
                outcome = review_outcome(p.rng, p.computed_at, p.now)
                decided.append((p, rec_id, outcome, (text[0], text[1], text[2])))
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_review (id uuid, status text, flagged bool, "
            "revision smallint, decided_at timestamptz, approved_by uuid, created_at timestamptz) "
            "ON COMMIT DROP"
        )
        with cursor.copy("COPY bench_review FROM STDIN") as copy:
            for p, rec_id, o, _ in decided:
                approved = o.status == RecommendationStatus.APPROVED
                operator = self.operators[p.index % len(self.operators)]
                row = (rec_id, o.status, o.flagged, int(o.edited), o.decided_at)
                copy.write_row((*row, operator if approved else None, p.computed_at))
        table = Recommendation._meta.db_table
        cursor.execute(
            f"""
            UPDATE {table} AS r SET status = b.status, flagged = b.flagged,
                revision = b.revision, decided_at = b.decided_at,
                approved_at = CASE WHEN b.status = 'approved' THEN b.decided_at END,
                approved_by_id = b.approved_by, created_at = b.created_at
            FROM bench_review AS b WHERE r.id = b.id
            """  # noqa: S608 (the table name comes from the model)
        )
        revision_and_feedback(cursor, decided, self.operators)

    def _templates(self, real: int) -> list[Template]:
        """Up to ``templates_max`` real users' rows, to copy under other users' ids."""
        ids = list(
            SignalSnapshot.objects.filter(
                user_id__in=[bench_id(USER, i) for i in range(real)], window="30d"
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)[: self.templates_max]
        )
        templates = []
        for user_id in ids:
            index = int(str(user_id)[-12:])
            with connection.cursor() as cursor:
                cursor.execute(TEMPLATE_SNAPSHOTS, [user_id])
                snapshots = [
                    (w, a, Escaped(copy_text(d)), Escaped(copy_text(i)))
                    for w, a, d, i in cursor.fetchall()
                ]
                cursor.execute(TEMPLATE_PERSONAS, [user_id])
                personas = [
                    (w, p, escaped(m), escaped(e), escaped(r), a)
                    for w, p, m, e, r, a in cursor.fetchall()
                ]
                cursor.execute(TEMPLATE_RECOMMENDATIONS, [user_id])
                recs = [
                    (
                        t,
                        s,
                        escaped(ti),
                        escaped(c),
                        escaped(ra),
                        pe,
                        w,
                        sc,
                        Escaped(copy_text(tr)),
                        d,
                    )
                    for t, s, ti, c, ra, pe, w, sc, tr, d in cursor.fetchall()
                ]
            accounts = list(
                Account.objects.filter(user_id=user_id).values("account_id", *ACCOUNT_FIELDS)
            )
            liabilities = list(
                Liability.objects.filter(user_id=user_id).values(
                    "kind", "account_id", *LIABILITY_FIELDS
                )
            )
            for liability in liabilities:
                liability["details"] = escaped(liability["details"])
            upload = DataUpload.objects.filter(id=bench_id(UPLOAD, index)).values(
                "file_size", "sha256", "account_ids", "counts"
            )[0]
            templates.append(
                Template(
                    archetype=ARCHETYPES[index % len(ARCHETYPES)],
                    accounts=accounts,
                    liabilities=liabilities,
                    snapshots=snapshots,
                    personas=personas,
                    recommendations=recs,
                    upload={
                        **upload,
                        "counts": escaped(upload["counts"]),
                        "account_ids": escaped(upload["account_ids"]),
                    },
                )
            )
        self.progress(f"  {len(templates)} real users' derived rows are the templates")
        return templates

    def _copied_batch(self, indices: range) -> None:
        now = timezone.now()
        plans = []
        for index in indices:
            plan = plan_user(index, now)
            plan.template = self.templates[index % len(self.templates)]
            plan.archetype = plan.template.archetype
            plan.upload = plan.template.upload
            plans.append(plan)
        decided: list[tuple[Plan, str, Outcome, tuple[str, str, str]]] = []

        def recommendations() -> Iterator[tuple[Any, ...]]:
            for p in plans:
                for n, (
                    kind,
                    slug,
                    title,
                    content,
                    rationale,
                    persona,
                    window,
                    score,
                    trace,
                    digest,
                ) in enumerate(p.copied.recommendations):
                    o = review_outcome(p.rng, p.computed_at, p.now)
                    rec_id = bench_id(RECOMMENDATION, p.index, n)
                    decided.append((p, rec_id, o, (title, content, rationale)))
                    approved = o.status == RecommendationStatus.APPROVED
                    yield (
                        rec_id,
                        p.user_id,
                        kind,
                        slug,
                        title,
                        content,
                        rationale,
                        DISCLAIMER,
                        persona,
                        window,
                        score,
                        o.status,
                        trace,
                        p.computed_at,
                        o.decided_at if approved else None,
                        self.operators[p.index % len(self.operators)] if approved else None,
                        o.decided_at,
                        "",
                        o.flagged,
                        int(o.edited),
                        digest,  # the template's: a pending item recompute would keep
                    )

        def personas() -> Iterator[tuple[Any, ...]]:
            for p in plans:
                for window, persona, matched, evaluations, reason, as_of in p.copied.personas:
                    if p.history and window == "30d":
                        earlier = self.templates[(p.index + 1) % len(self.templates)]
                        old = next((row for row in earlier.personas if row[0] == window), None)
                        if old is not None and old[1] != persona:
                            yield (p.user_id, *old[:5], old[5], p.computed_at - timedelta(days=30))
                    yield (
                        p.user_id,
                        window,
                        persona,
                        matched,
                        evaluations,
                        reason,
                        as_of,
                        p.computed_at,
                    )

        with self._batch(plans) as cursor:
            copy_rows(
                cursor,
                SignalSnapshot,
                ("user", "window", "as_of", "data", "inputs", "computed_at"),
                ((p.user_id, *row, p.computed_at) for p in plans for row in p.copied.snapshots),
            )
            copy_rows(
                cursor,
                PersonaAssignment,
                PERSONA_FIELDS,
                personas(),
            )
            copy_rows(
                cursor,
                Recommendation,
                RECOMMENDATION_FIELDS,
                recommendations(),
            )
            revision_and_feedback(cursor, decided, self.operators)
