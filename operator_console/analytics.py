"""Analytics over a date range (DESIGN §9): coverage, explainability, auditability, review,
latency, engagement, cache and fairness. Reads only; every figure says what it counts.

What users are now (coverage, fairness) comes from the bucket tallies
(operator_console.tallies); what happened in the range, from the daily rollups
(recommendations.state) with the signed changes later writes made to them, and the rows of the
days not rolled up."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from consent.selectors import visible_to_staff
from operator_console import tallies
from recommendations import state
from recommendations.cache import cache_stats
from recommendations.models import (
    DailyRollup,
    Feedback,
    PersonaAssignment,
    Recommendation,
    RollupDelta,
)
from recommendations.state import SIGNAL_GROUPS
from uploads.models import DataUpload, UploadStatus

M = TypeVar("M", bound=Model)
P = ParamSpec("P")
R = TypeVar("R")

# How PostgreSQL plans an analytics read, for its transaction only: it counts a few days'
# rows and a few buckets' users, from pages that are cached (or on SSD). Costed so
# (PostgreSQL's default random_page_cost of 4 prices an index lookup as a disk seek), the
# consent of today's items is checked with a lookup each (their query: about 45 ms for 2,500
# items at 200,000 users) rather than by a hash join over every user (about 85 ms, growing
# with them); many rows (many days not rolled up) still get a hash join. No JIT: compiling
# (about 80 ms at 365,000 users) never pays off for a few thousand rows.
PLANNER = "SET LOCAL random_page_cost = 1.1; SET LOCAL jit = off"


def one_snapshot(read: Callable[P, R]) -> Callable[P, R]:
    """Every query of ``read`` sees one snapshot of the database it reads from (the replica
    or default): a figure sums rollups and live rows read in separate queries, and a rollup or
    a change of consent committing between them would count a day twice, or not at all. A
    read-only REPEATABLE READ transaction on PostgreSQL (allowed on a hot standby), planned
    as ``PLANNER`` says; nested reads join the outer one."""

    @functools.wraps(read)
    def within(*args: P.args, **kwargs: P.kwargs) -> R:
        alias = router.db_for_read(DailyRollup) or DEFAULT_DB_ALIAS
        connection = connections[alias]
        if connection.in_atomic_block:
            return read(*args, **kwargs)
        with transaction.atomic(using=alias):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(  # one statement, no parameters: one round trip
                        f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; {PLANNER}"
                    )
            return read(*args, **kwargs)

    return within


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range as [first moment, moment after the last day); any valid dates, the last day
    of the calendar included."""
    tz = timezone.get_current_timezone()
    high = (
        datetime.combine(end + timedelta(days=1), time.min, tz)
        if end < date.max
        else datetime.max.replace(tzinfo=tz)
    )
    return datetime.combine(start, time.min, tz), high


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day(value: date | datetime | str) -> date:
    """A week's date as the database gives it (SQLite may answer a datetime, or text to a
    query of raw SQL)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


@one_snapshot
def coverage(start: date, end: date) -> dict[str, Any]:
    """Users with a persona and at least three detected signals, among users with data: the
    current-state rows (recommendations.state) counted per persona, and the users who
    consent, from the bucket tallies (operator_console.tallies), in two queries."""
    sums = tallies.tally_sums("users", "state")
    data = tallies.by_key(sums, "with_data")  # by persona ("": none)
    covered = sum(n for persona, n in tallies.by_key(sums, "covered").items() if persona)
    mix = {persona or "none": n for persona, n in data.items()}
    signals = {
        group: sum(tallies.by_key(sums, f"signal_{group}").values()) for group in SIGNAL_GROUPS
    }
    with_data = sum(data.values())
    return {
        "users_consenting": sums["consenting", ""],
        "users_with_data": with_data,
        "users_with_persona": sum(n for persona, n in data.items() if persona),
        "users_covered": covered,
        "coverage": _rate(covered, with_data),
        "persona_mix": dict(sorted(mix.items())),
        "signals_detected": dict(sorted((k, n) for k, n in signals.items() if n)),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def _unbuilt(start: date, end: date, at: str) -> Q:
    """Rows whose ``at`` falls on a day of the range that is not rolled up (today, days with
    an upload in flight, days before the rollups began): one query for the built days, then
    a few timestamp ranges (the gaps between them) that an index on ``at`` serves."""
    built = list(
        state.built_days(start, end).order_by("day").values_list("day", flat=True).distinct()
    )
    runs, cursor = [], start
    for day in built:
        if day > cursor:
            runs.append((cursor, day - timedelta(days=1)))
        cursor = day + timedelta(days=1)
    if cursor <= end:
        runs.append((cursor, end))
    low, _ = _bounds(start, end)
    unbuilt = Q(**{f"{at}__gte": low, f"{at}__lt": low})  # nothing; still one query
    for first, last in runs:
        first_at, after = _bounds(first, last)
        unbuilt |= Q(**{f"{at}__gte": first_at, f"{at}__lt": after})
    return unbuilt


def _live(
    start: date, end: date, base: QuerySet[M], at: str, group: dict[str, Any]
) -> Counter[tuple[Any, ...]]:
    """What the rollups miss, in two queries whatever the range or user count: ``base`` rows
    of the range's days that are not rolled up, of users staff may see, grouped by ``group``
    (``at`` names ``base``'s timestamp)."""
    keys = tuple(group)
    rows = visible_to_staff(base.filter(_unbuilt(start, end, at)))
    return Counter(
        {
            tuple(row[k] for k in keys): row["n"]
            for row in rows.annotate(**group).values(*keys).annotate(n=Count("pk")).order_by()
        }
    )


def _summed(start: date, end: date, metrics: list[str], week: bool = False) -> list[Any]:
    """The rollups of ``metrics`` over the range's built days plus their deltas (the later
    writes' signed changes), summed per (metric, key), or per (week, metric, key): one
    statement (UNION ALL), on the database ``one_snapshot`` reads."""
    alias = router.db_for_read(DailyRollup) or DEFAULT_DB_ALIAS
    connection = connections[alias]
    q = connection.ops.quote_name
    columns = ["metric", "key", "value"]
    parts = []
    for model in (DailyRollup, RollupDelta):
        rows = model.objects.using(alias).filter(metric__in=metrics, day__gte=start, day__lte=end)
        if week:
            rows = rows.annotate(week=TruncWeek("day", output_field=DateField()))
        parts.append(rows.values(*columns, *(["week"] if week else [])).order_by())
    union = parts[0].union(parts[1], all=True)
    sql, params = union.query.get_compiler(using=alias).as_sql()
    group = ", ".join(f"u.{q(c)}" for c in (["week"] if week else []) + ["metric", "key"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {group}, SUM(u.{q('value')}) FROM ({sql}) u GROUP BY {group}",  # noqa: S608
            params,
        )
        # The sums as ints (PostgreSQL's SUM of bigint is a numeric).
        return [(*row[:-1], int(row[-1])) for row in cursor.fetchall()]


def _rolled(start: date, end: date, *metrics: str) -> Counter[tuple[str, str]]:
    """The rollups of ``metrics`` over the range's built days, with their deltas, summed per
    (metric, key)."""
    return Counter({(metric, key): n for metric, key, n in _summed(start, end, list(metrics))})


@one_snapshot
def persona_mix_over_time(start: date, end: date) -> list[dict[str, Any]]:
    """Persona assignments (30-day window) per week of the range, by persona: the rollups'
    weekly sums with their deltas, and the live rest (``_live``)."""
    counts: Counter[tuple[Any, ...]] = Counter(
        {(_day(w), key): n for w, _, key, n in _summed(start, end, ["persona"], week=True)}
    )
    live = _live(
        start,
        end,
        PersonaAssignment.objects.filter(window="30d"),
        "assigned_at",
        {
            "week": TruncWeek("assigned_at", output_field=DateField()),
            "persona_or_none": Coalesce("persona", Value("none")),
        },
    )
    counts.update({(_day(week), persona): n for (week, persona), n in live.items()})
    weeks: dict[str, dict[str, int]] = defaultdict(dict)
    for (week, persona), n in sorted((+counts).items()):
        weeks[week.isoformat()][persona] = n
    return [{"week": week, "counts": counts} for week, counts in sorted(weeks.items())]


@one_snapshot
def overview(start: date, end: date) -> dict[str, Any]:
    """The figures of recommendations created in the range (and of feedback given in it): the
    rollups of its built days (recommendations.state.recommendation_counts, ``feedback`` by
    rating) and the live rest, in a handful of queries whatever the range or user count."""
    names = list(state.recommendation_counts())
    rolled = _rolled(start, end, "recommendation", "feedback")
    live = visible_to_staff(
        Recommendation.objects.filter(_unbuilt(start, end, "created_at"))
    ).aggregate(**state.recommendation_counts())
    counts = {name: rolled[("recommendation", name)] + live[name] for name in names}
    engaged = counts.pop("approved_with_feedback")
    decided = counts["approved"] + counts["rejected"]
    ratings = Counter({key: n for (metric, key), n in rolled.items() if metric == "feedback"})
    ratings.update(
        {
            key[0]: n
            for key, n in _live(
                start, end, Feedback.objects.all(), "created_at", {"feedback_rating": F("rating")}
            ).items()
        }
    )
    feedback = {"total": sum(ratings.values()), "helpful": ratings["helpful"]}
    helpful = feedback["helpful"]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "coverage": coverage(start, end),
        "recommendations": counts,
        "explainability": _rate(counts["with_rationale"], counts["total"]),
        "auditability": _rate(counts["with_trace"], counts["total"]),
        "approval_rate": _rate(counts["approved"], decided),
        "rejection_rate": _rate(counts["rejected"], decided),
        "engagement": {
            "feedback": feedback["total"],
            "helpful": helpful,
            "helpful_share": _rate(helpful, feedback["total"]),
            "approved_with_feedback_share": _rate(engaged, counts["approved"]),
        },
        "performance": performance(start, end),
        "fairness": fairness(),
        "persona_mix_over_time": persona_mix_over_time(start, end),
    }


@one_snapshot
def performance(start: date, end: date) -> dict[str, Any]:
    """Per-upload processing latency (created to processed) and the insights cache. Latency
    percentiles come from 2 % buckets (recommendations.state.LATENCY_GAMMA): within 1 %."""
    rolled = _rolled(start, end, "upload_status", "latency")
    live = _live(
        start,
        end,
        DataUpload.objects.all(),
        "created_at",
        {
            "upload_status": F("status"),
            "bucket": Case(
                When(state.processed_q(), then=state.latency_bucket()),
                default=None,
                output_field=IntegerField(),
            ),
        },
    )
    by_status: Counter[str] = Counter(
        {key: n for (metric, key), n in rolled.items() if metric == "upload_status"}
    )
    buckets: Counter[int] = Counter(
        {int(key): n for (metric, key), n in rolled.items() if metric == "latency"}
    )
    for (status, bucket), n in live.items():
        by_status[status] += n
        if bucket is not None:
            buckets[bucket] += n
    # The counters live 40 days: the last 40 days of the range at most (never a list as long
    # as the range, which a caller chooses).
    days = [end - timedelta(days=n) for n in range(min((end - start).days + 1, 40))]
    stats = cache_stats(days=days)
    lookups = stats["hits"] + stats["misses"]
    return {
        "uploads": {status: by_status.get(status, 0) for status in UploadStatus.values},
        "latency_ms": _percentiles(+buckets),
        "cache": {**stats, "hit_rate": _rate(stats["hits"], lookups)},
    }


def _percentiles(buckets: Counter[int]) -> dict[str, Any]:
    """count, p50 (the median), p95 (nearest rank) and max of a latency histogram."""
    count = sum(buckets.values())
    if not count:
        return {"count": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(buckets.items())

    def at(index: int) -> float:
        seen = 0
        for bucket, n in ordered:
            seen += n
            if index < seen:
                return state.bucket_value(bucket)
        return state.bucket_value(ordered[-1][0])

    middle = count // 2
    median = at(middle) if count % 2 else (at(middle - 1) + at(middle)) / 2
    return {
        "count": count,
        "p50": round(median, 1),
        "p95": round(at(min(count - 1, round(0.95 * (count - 1)))), 1),
        "max": round(state.bucket_value(ordered[-1][0]), 1),
    }


@one_snapshot
def fairness() -> dict[str, Any]:
    """Persona and offer rates across age bands (synthetic users only), with parity ratios
    (lowest group rate / highest; 1.0 is parity, under 0.8 deserves a look): the bands and
    the users' current state, from the bucket tallies (operator_console.tallies)."""
    sums = tallies.tally_sums("demographic")
    members: dict[str, Counter[str]] = defaultdict(Counter)  # band: users by persona
    for key, n in tallies.by_key(sums, "band_users").items():
        persona, band = key.split(tallies.KEY_SEPARATOR, 1)
        members[band][persona or "none"] += n
    offered: Counter[str] = Counter()
    for key, n in tallies.by_key(sums, "band_offered").items():
        offered[key.split(tallies.KEY_SEPARATOR, 1)[1]] += n
    groups: dict[str, dict[str, Any]] = {}
    for band in sorted(members):
        users = sum(members[band].values())
        groups[band] = {
            "users": users,
            "offer_rate": _rate(offered[band], users),
            "persona_rates": {p: _rate(n, users) for p, n in sorted(members[band].items())},
        }
    offer_rates = [g["offer_rate"] for g in groups.values() if g["offer_rate"] is not None]
    parity = (
        round(min(offer_rates) / max(offer_rates), 4)
        if offer_rates and max(offer_rates) > 0
        else None
    )
    return {"groups": groups, "offer_rate_parity": parity, "attribute": "age_band"}
