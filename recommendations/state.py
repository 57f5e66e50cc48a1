"""Narrow derived data for analytics: each user's current state, and daily rollups.

One :class:`~recommendations.models.UserInsightState` row per user: recompute writes it with
:func:`user_state_write` inside its write transaction, after its writes, from the values it
just wrote (one ``INSERT … ON CONFLICT`` of values; whether a partner offer exists is read
back in it). :func:`user_state_refresh` derives the same row from the stored rows (the latest
persona per window, the 30-day snapshot's detected groups, the offers) in one
``INSERT … SELECT … ON CONFLICT``; without the user filter that statement is
:func:`states_rebuild`, the backfill. A test holds the two writes equal. Every write of
state rows announces ``events.user_figures_changed`` in its transaction, after the write:
the console counts the users' buckets live until it tallies them again.

:func:`rollup_days` writes :class:`~recommendations.models.DailyRollup` rows for closed days,
set-based (one ``INSERT … SELECT … GROUP BY`` per figure), counting the users
``consent.selectors.visible_to_staff`` lets through. When that changes for a user (consent
granted or revoked, data erased) :func:`user_rollups_unbuild` deletes the rollups of the
days the user touched, in the same transaction: analytics count those days live, exactly,
until the beat task rolls them up again. The figures of recommendations (per created day)
and ratings (per day given) change after their day: every writer calls
:func:`recommendations_changed` in its transaction, which marks those days stale the same way.

:func:`analytics_rebuild` (``manage.py analytics_rebuild``) rebuilds both; ``bench_scale``
calls it after seeding rows outside recompute.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
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
# The PostgreSQL advisory lock that serialises writers of rollups (any constant of our own).
ROLLUP_LOCK = 718_001
# The value of a day's ``built`` marker: rolled up, or stale (its figures were deleted; the
# beat task rolls it up again, however old).
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
    return ", ".join(f"{c} = excluded.{c}" for c in STATE_COLUMNS[1:])


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
        f"ON CONFLICT (user_id) DO UPDATE SET {_updates()}"
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
            f"ON CONFLICT (user_id) DO UPDATE SET {_updates()}",
            [*values, values[0], timezone.now()],
        )
    events.announce(events.user_figures_changed, user_ids=[user_id])


def user_state_refresh(*, user_id: uuid.UUID) -> None:
    """Write ``user_id``'s current state from their rows: one statement, run inside the
    caller's transaction (the state commits, or rolls back, with it)."""
    key = User._meta.pk.get_db_prep_value(user_id, connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_state_upsert("u.id = %s"), [timezone.now(), key])
        events.announce(events.user_figures_changed, user_ids=[user_id])


def user_state_erase(*, user_id: uuid.UUID) -> int:
    """Remove the user's state row, and the rollups that counted their rows (erasure of
    their derived data)."""
    with transaction.atomic():
        user_rollups_unbuild(user_id=user_id, erasing=True)
        erased = UserInsightState.objects.filter(user_id=user_id).delete()[0]
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


def _recommendations_rollup(low: date, high: date) -> tuple[str, list[Any]]:
    """INSERT … SELECT of the recommendation figures of the days ``low`` ≤ day < ``high``:
    one grouped scan, one row per day and figure (an unpivot that SQLite runs too)."""
    q = connection.ops.quote_name
    names = list(recommendation_counts())
    grouped = (
        visible_to_staff(
            Recommendation.objects.filter(
                created_at__gte=day_start(low), created_at__lt=day_start(high)
            )
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**recommendation_counts())
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    keys = " UNION ALL ".join(f"SELECT '{n}' AS k" for n in names)
    value = " ".join(f"WHEN '{n}' THEN g.{q(n)}" for n in names)
    return (
        f"INSERT INTO {_table(DailyRollup)} (day, metric, {q('key')}, value) "  # noqa: S608
        f"SELECT g.day, 'recommendation', f.k, CASE f.k {value} END "
        f"FROM ({sql}) g CROSS JOIN ({keys}) f",
        list(params),
    )


def _figures(low: date, high: date) -> list[tuple[str, QuerySet[Any], str]]:
    """Each rolled-up figure over the days ``low`` ≤ day < ``high``: its metric, a grouped
    query with ``day``, a key column and ``n``, and the key column's name."""
    first, after = day_start(low), day_start(high)
    uploads = visible_to_staff(
        DataUpload.objects.filter(created_at__gte=first, created_at__lt=after)
    ).annotate(day=TruncDate("created_at"))
    return [
        (
            "persona",
            visible_to_staff(
                PersonaAssignment.objects.filter(
                    window=Window.DAYS_30, assigned_at__gte=first, assigned_at__lt=after
                )
            )
            .annotate(day=TruncDate("assigned_at"))
            .values("day", "persona")
            .annotate(n=Count("id")),
            "persona",
        ),
        ("upload_status", uploads.values("day", "status").annotate(n=Count("id")), "status"),
        (
            "latency",
            uploads.filter(processed_q())
            .annotate(bucket=latency_bucket())
            .values("day", "bucket")
            .annotate(n=Count("id")),
            "bucket",
        ),
        (
            "feedback",
            visible_to_staff(Feedback.objects.filter(created_at__gte=first, created_at__lt=after))
            .annotate(day=TruncDate("created_at"))
            .values("day", "rating")
            .annotate(n=Count("id")),
            "rating",
        ),
    ]


def rollup_days(*, start: date, end: date) -> int:
    """Roll up the closed days ``start``..``end`` (inclusive; today and later are skipped):
    delete their rows, insert each figure with one ``INSERT … SELECT``, and mark built the
    days without an upload in flight (rolling them up later, once final). Idempotent."""
    end = min(end, timezone.now().date() - timedelta(days=1))
    if end < start:
        return 0
    high = end + timedelta(days=1)
    table = _table(DailyRollup)
    q = connection.ops.quote_name
    with transaction.atomic():
        _lock()
        DailyRollup.objects.filter(day__gte=start, day__lte=end).delete()
        with connection.cursor() as cursor:
            for metric, grouped, key in _figures(start, high):
                sql, params = grouped.query.sql_with_params()
                cursor.execute(
                    f"INSERT INTO {table} (day, metric, {q('key')}, value) "  # noqa: S608
                    f"SELECT g.day, %s, COALESCE(CAST(g.{q(key)} AS TEXT), 'none'), g.n "
                    f"FROM ({sql}) g",
                    [metric, *params],
                )
            cursor.execute(*_recommendations_rollup(start, high))
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


def rollup_pending(*, lookback_days: int) -> int:
    """Roll up the closed days of the last ``lookback_days`` that are not built yet, and every
    day marked stale (the beat task: yesterday once it closes, a day left unbuilt by an
    upload in flight, the days of a user whose consent changed or whose data was erased)."""
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


def _lock() -> None:
    """One writer of rollups at a time (a rollup and an unbuild crossing would leave a day
    counted with a consent that has changed). SQLite's write transactions are serial."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])


def user_rollups_unbuild(*, user_id: uuid.UUID, erasing: bool = False) -> int:
    """Delete the rollups of every day ``user_id`` counted in (their 30-day persona changes,
    uploads, recommendations and feedback), inside the caller's transaction: those days are
    counted live until rolled up again. ``erasing``: their rows may be gone already, so every
    day since they joined goes, unless no rollup counts them (they were hidden from staff)."""
    if erasing:
        user = visible_to_staff(User.objects.filter(pk=user_id), user_field=None).first()
        if user is None:
            return 0
        return _unbuild(DailyRollup.objects.filter(day__gte=timezone.localdate(user.created_at)))
    touched = [
        (PersonaAssignment.objects.filter(window=Window.DAYS_30), "assigned_at"),
        (DataUpload.objects.all(), "created_at"),
        (Recommendation.objects.all(), "created_at"),
        (Feedback.objects.all(), "created_at"),
    ]
    days: set[date] = set()
    for rows, at in touched:
        days.update(
            rows.filter(user_id=user_id)
            .annotate(day=TruncDate(at))
            .values_list("day", flat=True)
            .distinct()
        )
    return _days_unbuild(days)


def recommendations_changed(*, created: Iterable[datetime]) -> int:
    """Recommendations created at the moments ``created`` (or their feedback, created then)
    changed in a way the rollups count: their days, once closed, are counted live until
    rolled up again. Call inside the transaction of the change, after it (the one place every
    writer of recommendations and feedback goes through: review decisions, edits, flags,
    recompute, feedback)."""
    return _days_unbuild({timezone.localdate(moment) for moment in created})


def _days_unbuild(days: set[date]) -> int:
    """Mark ``days`` stale (their figures deleted), inside the caller's transaction. Days not
    closed yet are never rolled up: when only those are named, no lock is taken."""
    closed = {d for d in days if d < timezone.now().date()}
    if not closed:
        return 0  # no rollup can count them (a new user's first grant, today's rows)
    return _unbuild(DailyRollup.objects.filter(day__in=closed))


def _unbuild(doomed: QuerySet[DailyRollup]) -> int:
    with transaction.atomic():
        _lock()  # after a rollup in progress, which may have counted them, commits
        doomed.exclude(metric="built").delete()
        return doomed.filter(metric="built", value=BUILT).update(value=STALE)


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
