"""Narrow derived data for analytics: each user's current state, and daily rollups.

Over 400 lines: the current-state rows and the daily rollups are the two kinds of narrow
data analytics read, built from the same tables with the same SQL helpers and rebuilt
together (:func:`analytics_rebuild`).

One :class:`~recommendations.models.UserInsightState` row per user: recompute writes it with
:func:`user_state_write` inside its write transaction, after its writes, from the values it
just wrote (one ``INSERT … ON CONFLICT`` of values; whether a partner offer exists is read
back in it). :func:`user_state_refresh` derives the same row from the stored rows (the latest
persona per window, the 30-day snapshot's detected groups, the offers) in one
``INSERT … SELECT … ON CONFLICT``; without the user filter that statement is
:func:`states_rebuild`, the backfill. A test holds the two writes equal. A state row is
rewritten only when one of its figures differs, and every write that changed one announces
``events.user_figures_changed`` in its transaction, after the write: the console counts the
users' buckets live until it tallies them again.

:func:`rollup_days` writes :class:`~recommendations.models.DailyRollup` rows for closed days,
set-based (one ``INSERT … SELECT`` of every figure), counting the users
``consent.selectors.visible_to_staff`` lets through. A built day stays built whatever is
written later: a write that changes a figure of a built day (a review decision, edit or flag,
a recompute deleting old pending items, a rating, a change of consent, an erasure) appends
the exact signed change as :class:`~recommendations.models.RollupDelta` rows in its own
transaction (:func:`rollups_follow`): the figures of the rows it changes before the change,
negated, then after it, computed by the same grouped SQL as the build (:func:`_insert`, over
:class:`Rows`). Reads sum rollups and deltas; the beat task folds the deltas in
(:func:`rollups_fold`). Builds take the rollups' advisory lock exclusively, writers share it.

:func:`analytics_rebuild` (``manage.py analytics_rebuild``) rebuilds both; ``bench_scale``
calls it after seeding rows outside recompute.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, FloatField, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Floor, Greatest, Ln, TruncDate
from django.utils import timezone

from accounts.models import User
from consent.selectors import visible_to_staff
from recommendations.models import (
    DailyRollup,
    Feedback,
    PersonaAssignment,
    Recommendation,
    RecommendationStatus,
    RecommendationType,
    RollupDelta,
    SignalSnapshot,
    UserInsightState,
    Window,
)
from spendsense import events
from uploads.models import DataUpload, UploadStatus

# The signal groups the engine detects (recommendations.engine.signals.detected), one flag
# column each on UserInsightState.
SIGNAL_GROUPS = ("subscriptions", "savings", "credit", "income")

# Latency buckets grow by 2 %: bucket b holds [GAMMA**b, GAMMA**(b+1)) ms and stands for
# GAMMA**(b + 0.5), so a percentile read from buckets is within 1 % of the exact one, and a
# day holds a few hundred buckets at most (1 ms to an hour), whatever the upload count.
LATENCY_GAMMA = 1.02
# Uploads not yet final: a day holding one is not rolled up (its figures would change).
IN_FLIGHT = (UploadStatus.QUEUED, UploadStatus.PROCESSING)
# The PostgreSQL advisory lock of the rollups (any constant of our own): builds take it
# exclusively, writers of deltas share it.
ROLLUP_LOCK = 718_001
# The value of a day's ``built`` marker: rolled up, or stale (an upload was in flight when it
# was rolled up; the beat task rolls it up again, however old).
BUILT, STALE = 0, -1


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _column(model: Any, field: str) -> str:
    return f"{_table(model)}.{connection.ops.quote_name(model._meta.get_field(field).column)}"


def _detects(snapshot: str, group: str) -> str:
    """SQL: the 30-day snapshot ``snapshot`` lists ``group`` among its detected signals."""
    if connection.vendor == "postgresql":
        return f"COALESCE(({snapshot}.data -> 'detected') @> '[\"{group}\"]'::jsonb, FALSE)"
    detected = f"json_each({snapshot}.data, '$.detected')"
    return f"EXISTS (SELECT 1 FROM {detected} WHERE value = '{group}')"  # noqa: S608 (constants)


def _detected_count(snapshot: str) -> str:
    if connection.vendor == "postgresql":
        return f"COALESCE(jsonb_array_length({snapshot}.data -> 'detected'), 0)"
    return f"COALESCE(json_array_length({snapshot}.data, '$.detected'), 0)"


STATE_COLUMNS = (
    "user_id",
    "persona_30d",
    "persona_180d",
    "has_data",
    "detected_count",
    *(f"detects_{group}" for group in SIGNAL_GROUPS),
    "has_offer",
    "updated_at",
)


def _updates() -> str:
    """The ``DO UPDATE`` of a state upsert: the new values, only where one of them differs
    (an unchanged row is not written, and the statement counts no row)."""
    table = _table(UserInsightState)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    compared = STATE_COLUMNS[1:-1]  # every figure; not the time of the write
    return (
        f"SET {', '.join(f'{c} = excluded.{c}' for c in STATE_COLUMNS[1:])} WHERE "
        + " OR ".join(f"{table}.{c} {differs} excluded.{c}" for c in compared)
    )


def _has_offer(user: str) -> str:
    """SQL: a partner offer was recommended to ``user`` (an SQL expression), in any status."""
    recs = _table(Recommendation)
    return (
        f"EXISTS (SELECT 1 FROM {recs} r WHERE r.user_id = {user} AND r.type = "  # noqa: S608
        f"'{RecommendationType.PARTNER_OFFER}')"
    )


def _state_upsert(where: str) -> str:
    """INSERT … SELECT of the state of the users ``where`` selects (alias ``u``)."""
    q = connection.ops.quote_name
    users, snapshots = _table(User), _table(SignalSnapshot)
    personas = _table(PersonaAssignment)
    window = q("window")

    def latest(name: str) -> str:
        return (
            f"(SELECT p.persona FROM {personas} p WHERE p.user_id = u.id AND p.{window} = "  # noqa: S608
            f"'{name}' ORDER BY p.assigned_at DESC, p.id DESC LIMIT 1)"
        )

    flags = ", ".join(_detects("s", group) for group in SIGNAL_GROUPS)
    return (
        f"INSERT INTO {_table(UserInsightState)} ({', '.join(STATE_COLUMNS)}) "  # noqa: S608
        f"SELECT u.id, {latest(Window.DAYS_30)}, {latest(Window.DAYS_180)}, "
        f"s.id IS NOT NULL, {_detected_count('s')}, {flags}, "
        f"{_has_offer('u.id')}, %s "
        f"FROM {users} u LEFT JOIN {snapshots} s ON s.user_id = u.id AND s.{window} = "
        f"'{Window.DAYS_30}' WHERE {where} "
        f"ON CONFLICT (user_id) DO UPDATE {_updates()}"
    )


def user_state_write(
    *, user_id: uuid.UUID, signals: dict[str, Any], assigned: dict[str, dict[str, Any]]
) -> None:
    """Write ``user_id``'s current state from what recompute just computed and wrote (its
    ``signals`` and ``assigned`` personas, both windows): one ``INSERT … ON CONFLICT`` of
    values, inside the caller's transaction, after its writes (whether a partner offer
    exists is read back in the same statement). Equal to :func:`user_state_refresh`."""
    window = signals["windows"].get(Window.DAYS_30)
    detected = set(window["detected"]) if window else set()
    values = [
        User._meta.pk.get_db_prep_value(user_id, connection),
        (assigned.get(Window.DAYS_30) or {}).get("persona"),
        (assigned.get(Window.DAYS_180) or {}).get("persona"),
        window is not None,
        len(detected),
        *(group in detected for group in SIGNAL_GROUPS),
    ]
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(UserInsightState)} ({', '.join(STATE_COLUMNS)}) "  # noqa: S608
            f"VALUES ({marks}, {_has_offer('%s')}, %s) "
            f"ON CONFLICT (user_id) DO UPDATE {_updates()}",
            [*values, values[0], timezone.now()],
        )
        changed = cursor.rowcount
    if changed:  # the same state: no figure of analytics moved
        events.announce(events.user_figures_changed, user_ids=[user_id])


def user_state_refresh(*, user_id: uuid.UUID) -> None:
    """Write ``user_id``'s current state from their rows: one statement, run inside the
    caller's transaction (the state commits, or rolls back, with it)."""
    key = User._meta.pk.get_db_prep_value(user_id, connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_state_upsert("u.id = %s"), [timezone.now(), key])
        if cursor.rowcount:  # the same state: no figure of analytics moved
            events.announce(events.user_figures_changed, user_ids=[user_id])


def user_state_erase(*, user_id: uuid.UUID) -> int:
    """Remove the user's state row (erasure of their derived data)."""
    with transaction.atomic():
        erased = UserInsightState.objects.filter(user_id=user_id).delete()[0]
        if erased:
            events.announce(events.user_figures_changed, user_ids=[user_id])
        return erased


def states_rebuild(*, announce: bool = True) -> int:
    """Rebuild every user's state in two statements (no loop over users): the rows of users
    with a snapshot or a persona; every other row goes. ``announce=False`` only where no app
    may hear it yet (a migration that can run before the console's tables exist)."""
    snapshots, personas = _table(SignalSnapshot), _table(PersonaAssignment)
    where = (
        f"(EXISTS (SELECT 1 FROM {snapshots} x WHERE x.user_id = u.id) "  # noqa: S608
        f"OR EXISTS (SELECT 1 FROM {personas} y WHERE y.user_id = u.id))"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(UserInsightState)}")  # noqa: S608 (no input)
        deleted = cursor.rowcount
        cursor.execute(_state_upsert(where), [timezone.now()])
        if announce and (deleted or cursor.rowcount):  # (an empty database: nothing moved)
            events.announce(events.user_figures_changed, user_ids=None)
        return int(cursor.rowcount)


# --- rollups -------------------------------------------------------------------------------


def latency_ms() -> RawSQL:
    """An upload's processing latency (created to processed) in milliseconds, as SQL."""
    created = _column(DataUpload, "created_at")
    processed = _column(DataUpload, "processed_at")
    if connection.vendor == "postgresql":
        sql = f"EXTRACT(EPOCH FROM ({processed} - {created})) * 1000"
    else:
        sql = f"(julianday({processed}) - julianday({created})) * 86400000.0"
    return RawSQL(sql, [], output_field=FloatField())  # noqa: S611 (no input)


def latency_bucket() -> Cast:
    """The latency bucket (LATENCY_GAMMA) of an upload, as SQL."""
    return Cast(
        Floor(
            Ln(Greatest(latency_ms(), Value(0.001), output_field=FloatField()))
            / Value(math.log(LATENCY_GAMMA))
        ),
        IntegerField(),
    )


def bucket_value(bucket: int) -> float:
    """The latency (ms) a bucket stands for: its geometric middle."""
    return float(LATENCY_GAMMA ** (bucket + 0.5))


def processed_q() -> Q:
    """Uploads whose latency counts: processed, with the moment they were."""
    return Q(status=UploadStatus.PROCESSED, processed_at__isnull=False)


def day_start(day: date) -> datetime:
    """The first moment of ``day`` (bounds on indexed timestamps, not a cast per row)."""
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def recommendation_counts() -> dict[str, Count]:
    """The figures of recommendations (``analytics.overview``'s ``recommendations``, and the
    approved ones that drew feedback, at any time), as aggregates over recommendations: rolled
    up per created day (metric ``recommendation``, one key each) and counted live."""
    approved = Q(status=RecommendationStatus.APPROVED)
    rated = Exists(Feedback.objects.filter(recommendation=OuterRef("pk")))
    return {
        "total": Count("id"),
        "with_rationale": Count("id", filter=~Q(rationale="")),
        "with_trace": Count("id", filter=~Q(decision_trace={})),
        "approved": Count("id", filter=approved),
        "rejected": Count("id", filter=Q(status=RecommendationStatus.REJECTED)),
        "pending": Count("id", filter=Q(status=RecommendationStatus.PENDING)),
        "flagged": Count("id", filter=Q(flagged=True)),
        "edited": Count("id", filter=Q(revision__gt=0)),
        "approved_with_feedback": Count("id", filter=approved & Q(rated)),
    }


@dataclass(frozen=True)
class Rows:
    """The rows a rolled-up figure counts: those of the days ``low`` ≤ day < ``high`` (a
    build), or those a write changes (a delta, counted on built days only): the items
    ``items`` (ids) and their ratings, or every row of the user ``user_id``."""

    low: date | None = None
    high: date | None = None
    items: tuple[Any, ...] = ()
    user_id: uuid.UUID | None = None

    def where(self, model: Any, at: str) -> Q | None:
        """The rows of ``model`` (timestamp ``at``) counted; None: none of them."""
        if self.low is not None and self.high is not None:
            return Q(**{f"{at}__gte": day_start(self.low), f"{at}__lt": day_start(self.high)})
        if self.user_id is not None:
            return Q(user_id=self.user_id)
        if model is Recommendation:
            return Q(pk__in=self.items)
        if model is Feedback:
            return Q(recommendation_id__in=self.items)
        return None

    def days(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """``rows`` (annotated with their ``day``) of the days counted: a delta changes only
        the figures of built days (the others are counted live)."""
        if self.low is not None:
            return rows
        built = DailyRollup.objects.filter(metric="built", value=BUILT).values("day")
        return rows.filter(day__in=built)


def _recommendations_rollup(rows: Rows, sign: int) -> tuple[str, list[Any]]:
    """SELECT of the recommendation figures of ``rows`` (times ``sign``): one grouped scan,
    one row per day and figure that is not zero (an unpivot that SQLite runs too)."""
    q = connection.ops.quote_name
    names = list(recommendation_counts())
    where = rows.where(Recommendation, "created_at")
    items = Recommendation.objects.filter(where) if where else Recommendation.objects.none()
    grouped = (
        rows.days(visible_to_staff(items).annotate(day=TruncDate("created_at")))
        .values("day")
        .annotate(**recommendation_counts())
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    keys = " UNION ALL ".join(f"SELECT '{n}' AS k" for n in names)
    value = f"CASE f.k {' '.join(f'WHEN {chr(39)}{n}{chr(39)} THEN g.{q(n)}' for n in names)} END"
    return (
        f"SELECT g.day, 'recommendation', f.k, {sign:d} * {value} "  # noqa: S608 (constants)
        f"FROM ({sql}) g CROSS JOIN ({keys}) f WHERE {value} <> 0",
        list(params),
    )


def _figures(rows: Rows) -> list[tuple[str, QuerySet[Any], str]]:
    """Each rolled-up figure of ``rows`` but the recommendations': its metric, a grouped
    query with ``day``, a key column and ``n``, and the key column's name."""

    def counted(model: Any, at: str, **only: Any) -> QuerySet[Any] | None:
        where = rows.where(model, at)
        if where is None:
            return None
        found = visible_to_staff(model.objects.filter(where, **only))
        return rows.days(found.annotate(day=TruncDate(at)))

    personas = counted(PersonaAssignment, "assigned_at", window=Window.DAYS_30)
    uploads = counted(DataUpload, "created_at")
    feedback = counted(Feedback, "created_at")
    figures = []
    if personas is not None:
        grouped = personas.values("day", "persona").annotate(n=Count("id"))
        figures.append(("persona", grouped, "persona"))
    if uploads is not None:
        statuses = uploads.values("day", "status").annotate(n=Count("id"))
        latencies = (
            uploads.filter(processed_q())
            .annotate(bucket=latency_bucket())
            .values("day", "bucket")
            .annotate(n=Count("id"))
        )
        figures += [("upload_status", statuses, "status"), ("latency", latencies, "bucket")]
    if feedback is not None:
        ratings = feedback.values("day", "rating").annotate(n=Count("id"))
        figures.append(("feedback", ratings, "rating"))
    return figures


def _insert(model: Any, rows: Rows, sign: int) -> None:
    """Insert every rolled-up figure of ``rows`` (times ``sign``) into ``model``'s table
    (DailyRollup or RollupDelta): one ``INSERT … SELECT``, the one rule both share."""
    q = connection.ops.quote_name
    selects: list[str] = []
    params: list[Any] = []
    for metric, grouped, key in _figures(rows):
        sql, grouped_params = grouped.query.sql_with_params()
        selects.append(
            f"SELECT g.day, '{metric}', COALESCE(CAST(g.{q(key)} AS TEXT), 'none'), "  # noqa: S608
            f"{sign:d} * g.n FROM ({sql}) g"
        )
        params += grouped_params
    sql, rollup_params = _recommendations_rollup(rows, sign)
    selects.append(sql)
    params += rollup_params
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(model)} (day, metric, {q('key')}, value) "
            f"{' UNION ALL '.join(selects)}",
            params,
        )


def rollup_days(*, start: date, end: date) -> int:
    """Roll up the closed days ``start``..``end`` (inclusive; today and later are skipped):
    delete their rows and deltas, insert their figures with one ``INSERT … SELECT``, and mark
    built the days without an upload in flight (rolling them up later, once final).
    Idempotent."""
    end = min(end, timezone.now().date() - timedelta(days=1))
    if end < start:
        return 0
    high = end + timedelta(days=1)
    with transaction.atomic():
        _lock()
        DailyRollup.objects.filter(day__gte=start, day__lte=end).delete()
        RollupDelta.objects.filter(day__gte=start, day__lte=end).delete()
        _insert(DailyRollup, Rows(low=start, high=high), 1)
        unsettled = set(
            DataUpload.objects.filter(
                created_at__gte=day_start(start),
                created_at__lt=day_start(high),
                status__in=IN_FLIGHT,
            )
            .annotate(day=TruncDate("created_at"))
            .values_list("day", flat=True)
            .distinct()
        )
        if unsettled:
            DailyRollup.objects.filter(day__in=unsettled).delete()
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        DailyRollup.objects.bulk_create(  # a day in flight: stale, to be rolled up later
            [
                DailyRollup(day=d, metric="built", value=STALE if d in unsettled else BUILT)
                for d in days
            ]
        )
    return len(days) - len(unsettled)


def rollups_fold() -> int:
    """Fold every delta into the rollups (the beat task): sum them per figure, add the sums
    to the rollups (a figure now zero goes) and delete them, under the builds' lock (no
    write adds one meanwhile). Returns the figures changed."""
    rollup, delta = _table(DailyRollup), _table(RollupDelta)
    key = connection.ops.quote_name("key")
    with transaction.atomic():
        _lock()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {rollup} (day, metric, {key}, value) "  # noqa: S608 (no input)
                f"SELECT day, metric, {key}, SUM(value) FROM {delta} WHERE 1 = 1 "
                f"GROUP BY day, metric, {key} "
                f"ON CONFLICT (metric, day, {key}) DO UPDATE SET value = {rollup}.value + "
                "excluded.value"
            )
            folded = int(cursor.rowcount)
            cursor.execute(
                f"DELETE FROM {rollup} WHERE value = 0 AND metric <> 'built' "  # noqa: S608
                f"AND day IN (SELECT day FROM {delta})"
            )
            cursor.execute(f"DELETE FROM {delta}")  # noqa: S608 (no input)
    return folded


def rollup_pending(*, lookback_days: int) -> int:
    """The beat task: fold the deltas in (:func:`rollups_fold`), then roll up the closed days
    of the last ``lookback_days`` that are not built yet, and every day marked stale
    (yesterday once it closes, a day left unbuilt by an upload in flight)."""
    rollups_fold()
    today = timezone.now().date()
    first = today - timedelta(days=lookback_days)
    markers = dict(
        DailyRollup.objects.filter(metric="built")
        .filter(Q(day__gte=first) | Q(value=STALE))
        .values_list("day", "value")
    )
    recent = (first + timedelta(days=n) for n in range(lookback_days))
    missing = sorted(
        {d for d in recent if d not in markers} | {d for d, v in markers.items() if v == STALE}
    )
    runs: list[list[date]] = []
    for day in missing:
        if runs and runs[-1][-1] == day - timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return sum(rollup_days(start=run[0], end=run[-1]) for run in runs)


def _lock(*, shared: bool = False) -> None:
    """Builds (and the fold) take the rollups' lock exclusively, writers recording deltas
    share it: a build never crosses a write, so a write's delta and the build's count never
    both hold (or both miss) its change, while writers never wait for one another. SQLite's
    write transactions are serial."""
    if connection.vendor == "postgresql":
        take = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {take}(%s)", [ROLLUP_LOCK])


def _closed(items: Iterable[Recommendation]) -> tuple[Any, ...]:
    """The ids of ``items`` created on a closed day (no rollup counts today's)."""
    today = timezone.now().date()
    return tuple(r.pk for r in items if timezone.localdate(r.created_at) < today)


def rollups_before(
    *, items: Iterable[Recommendation] = (), user_id: uuid.UUID | None = None
) -> Rows | None:
    """The first half of a write the rollups count, inside its transaction: append the
    rolled-up figures of the rows it is about to change, negated, as deltas. The rows: the
    ``items`` (and their ratings), which the caller has locked (SELECT … FOR UPDATE), or
    every row of ``user_id``, whose user row the caller has locked (recompute and ratings
    wait) and whose items this locks, in id order (review decisions wait). Returns the rows
    for :func:`rollups_after`; None when no rollup counts them (items of today).

    The rollups' lock comes before the check of which items are of a closed day: a write
    that finds its item's day still open holds the lock, so a build of that day (once it
    closes) waits for the write to commit and counts its change."""
    if user_id is not None:
        rows = Rows(user_id=user_id)
        list(
            Recommendation.objects.select_for_update()
            .filter(user_id=user_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        _lock(shared=True)
    else:
        locked = list(items)  # a queryset locks its rows here, before the rollups' lock
        if not locked:
            return None
        _lock(shared=True)
        closed = _closed(locked)
        if not closed:
            return None
        rows = Rows(items=closed)
    _insert(RollupDelta, rows, -1)
    return rows


def rollups_after(rows: Rows | None) -> None:
    """The second half: append the same figures of the same rows, now changed (deleted rows
    give none)."""
    if rows is not None:
        _insert(RollupDelta, rows, 1)


@contextmanager
def rollups_follow(
    *, items: Iterable[Recommendation] = (), user_id: uuid.UUID | None = None
) -> Iterator[None]:
    """Around a change of ``items`` (locked by the caller) or of ``user_id``'s rows:
    :func:`rollups_before`, the change, :func:`rollups_after`, in the caller's transaction."""
    rows = rollups_before(items=items, user_id=user_id)
    yield
    rollups_after(rows)


def analytics_rebuild(*, since: date | None = None, announce: bool = True) -> dict[str, int]:
    """Rebuild the current-state rows and the rollups of every closed day since ``since``
    (default: the first day any persona, upload, recommendation or rating was recorded),
    set-based; ``announce`` as for :func:`states_rebuild`."""
    if since is None:
        firsts = [
            PersonaAssignment.objects.order_by("assigned_at")
            .values_list("assigned_at", flat=True)
            .first(),
            *(
                model.objects.order_by("created_at").values_list("created_at", flat=True).first()
                for model in (DataUpload, Recommendation, Feedback)
            ),
        ]
        known = [timezone.localdate(f) for f in firsts if f is not None]
        since = min(known) if known else timezone.now().date()
    states = states_rebuild(announce=announce)
    days = rollup_days(start=since, end=timezone.now().date())
    return {"states": states, "days": days}


def built_days(start: date, end: date) -> QuerySet[DailyRollup, Any]:
    """The rolled-up days of ``start``..``end``, as a subquery of dates."""
    return DailyRollup.objects.filter(
        metric="built", value=BUILT, day__gte=start, day__lte=end
    ).values("day")
