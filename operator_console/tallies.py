"""Analytics' figures of users as they are now (coverage, users consenting, fairness), kept per
user bucket so that a read costs the same at any number of users.

Users fall into ``spendsense.buckets.BUCKETS`` buckets by id. :class:`UserTally` holds each
bucket's figures (metric, key, value) and a ``built`` marker; :class:`UserTallyChange` rows
name buckets whose figures a write may have moved. A read (:func:`tally_sums`, inside
``analytics.one_snapshot``) sums the tallies of the buckets that are built and unchanged, and
counts the others live, in one statement, with the query that builds a tally
(:func:`_rows_sql`): one rule, whether a bucket is counted from its tally or from the rows.

Every write that can move a figure calls :func:`tallies_changed` in its own transaction,
after the write: the current-state writers (``recommendations.state``) and a user's consent
written or account deleted, however it is done (``accounts.signals``: a save, a queryset
update, a delete), through ``events.user_figures_changed``; and a demographic written
(``services.demographic_set``). The beat task ``operator_console.tally_analytics`` (and
``manage.py analytics_rebuild``) runs :func:`tallies_build`.

Why a write and a build crossing cannot leave a bucket counted from a stale tally: a writer
only inserts a change row, in the transaction of its write. A build deletes the change rows
its statement sees, then counts in a later statement, so everything whose change row it
deleted had committed before that count; a change row committed after its delete survives
it, and the bucket stays counted live. A reader sees a change row exactly when it sees the
write (they commit together). Writers never wait: not on one another (inserts), nor on a
build (it deletes only committed rows); builds take an advisory lock among themselves.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Count, F, Q, QuerySet, UUIDField, Value
from django.db.models.functions import Coalesce, Concat

from accounts.models import User
from consent.selectors import visible_to_staff
from operator_console.models import SyntheticDemographic, UserTally, UserTallyChange
from recommendations import state
from recommendations.models import UserInsightState
from recommendations.state import SIGNAL_GROUPS
from spendsense.buckets import BUCKETS, UserBucket
from spendsense.lookups import AnyOf

# The marker of a built bucket (key "", value 0).
BUILT = "built"
# The PostgreSQL advisory lock that serialises builds (any constant of our own).
TALLY_LOCK = 718_002
# Separates a fairness key's persona (never contains it) from its age band (may).
KEY_SEPARATOR = "|"


def _families() -> dict[str, tuple[QuerySet[Any], str, Any, dict[str, Count]]]:
    """Each family of figures: the rows it counts (only of users staff may see), the column of
    their user, the key it groups them by, and its counts by metric name."""
    signals = {
        f"signal_{group}": Count("pk", filter=Q(**{f"detects_{group}": True}))
        for group in SIGNAL_GROUPS
    }
    return {
        "users": (
            visible_to_staff(User.objects.all(), user_field=None),
            "id",
            Value(""),
            {"consenting": Count("pk")},
        ),
        "state": (
            visible_to_staff(UserInsightState.objects.filter(has_data=True)),
            "user_id",
            Coalesce("persona_30d", Value("")),
            {
                "with_data": Count("pk"),
                "covered": Count("pk", filter=Q(detected_count__gte=3)),
                **signals,
            },
        ),
        "demographic": (
            visible_to_staff(SyntheticDemographic.objects.all()),
            "user_id",
            Concat(
                Coalesce("user__insight_state__persona_30d", Value("")),
                Value(KEY_SEPARATOR),
                F("age_band"),
            ),
            {
                "band_users": Count("pk"),
                "band_offered": Count("pk", filter=Q(user__insight_state__has_offer=True)),
            },
        ),
    }


def _rows_sql(alias: str, names: Iterable[str], buckets: list[int] | None) -> tuple[str, list[Any]]:
    """SQL of the rows ``(bucket, metric, key, value)`` of the families ``names`` for the users
    of ``buckets`` (None: every bucket), zeros left out: what a build stores, and what a read
    counts live. One grouped query per family, unpivoted (a CROSS JOIN of its metric names)."""
    connection = connections[alias]
    q = connection.ops.quote_name
    families = _families()
    parts, params = [], []
    for name in names:
        rows, user, key, counts = families[name]
        if buckets is not None:
            rows = rows.filter(AnyOf(UserBucket(user), buckets))
        grouped = (
            rows.annotate(bucket=UserBucket(user), tally_key=key)
            .values("bucket", "tally_key")
            .annotate(**counts)
            .order_by()
        )
        sql, family_params = grouped.query.get_compiler(using=alias).as_sql()
        metrics = " UNION ALL ".join(f"SELECT '{m}' AS metric" for m in counts)
        value = " ".join(f"WHEN '{m}' THEN g.{q(m)}" for m in counts)
        parts.append(
            f"SELECT g.bucket, m.metric, g.tally_key AS {q('key')}, "  # noqa: S608 (constants)
            f"CASE m.metric {value} END AS value FROM ({sql}) g CROSS JOIN ({metrics}) m"
        )
        params.extend(family_params)
    union = " UNION ALL ".join(parts)
    return f"SELECT * FROM ({union}) t WHERE t.value <> 0", params  # noqa: S608 (constants)


def _table(model: Any, alias: str) -> str:
    return str(connections[alias].ops.quote_name(model._meta.db_table))


def unbuilt(alias: str = DEFAULT_DB_ALIAS) -> list[int]:
    """The buckets counted live: never built, or named by a change row (one query, an index
    probe per bucket)."""
    tallies, changes = _table(UserTally, alias), _table(UserTallyChange, alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < %s) "  # noqa: S608
            f"SELECT n FROM s WHERE NOT EXISTS (SELECT 1 FROM {tallies} t "
            f"WHERE t.bucket = s.n AND t.metric = %s) "
            f"OR EXISTS (SELECT 1 FROM {changes} c WHERE c.bucket = s.n) ORDER BY n",
            [BUCKETS - 1, BUILT],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def tally_sums(*names: str) -> Counter[tuple[str, str]]:
    """The figures of the families ``names`` over every user, by (metric, key): the built,
    unchanged buckets' tallies and the other buckets counted live, summed in one statement
    (two queries in all, whatever the number of users). Call inside ``one_snapshot``."""
    alias = router.db_for_read(UserTally) or DEFAULT_DB_ALIAS
    live = unbuilt(alias)
    families = _families()
    metrics = [metric for name in names for metric in families[name][3]]
    clean = (
        UserTally.objects.using(alias)
        .filter(metric__in=metrics)
        .exclude(bucket__in=live)
        .values_list("metric", "key", "value")
    )
    sql, params = clean.query.get_compiler(using=alias).as_sql()
    q = connections[alias].ops.quote_name
    parts, all_params = [sql], list(params)
    if live:
        # Every bucket live (before the first build): the whole table, not a filter per row.
        live_sql, live_params = _rows_sql(alias, names, None if len(live) == BUCKETS else live)
        parts.append(f"SELECT l.metric, l.{q('key')}, l.value FROM ({live_sql}) l")  # noqa: S608
        all_params.extend(live_params)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT r.metric, r.{q('key')}, SUM(r.value) "  # noqa: S608 (no input)
            f"FROM ({' UNION ALL '.join(parts)}) r GROUP BY r.metric, r.{q('key')}",
            all_params,
        )
        return Counter({(metric, key): int(n) for metric, key, n in cursor.fetchall()})


def by_key(sums: Counter[tuple[str, str]], metric: str) -> dict[str, int]:
    """One metric of :func:`tally_sums`, by key."""
    return {key: n for (m, key), n in sums.items() if m == metric}


def tallies_changed(*, user_ids: Iterable[uuid.UUID] | None) -> None:
    """The figures of ``user_ids`` (None: of every user) may have moved: their buckets are
    counted live until built again. Call inside the transaction of the write, after it. One
    ``INSERT``, no ``RETURNING``: recompute pays it on every write (about 0.2 ms)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if user_ids is None:
        rows: list[tuple[str, Any]] = [(str(b), ()) for b in range(BUCKETS)]
    else:
        compiler = UserTallyChange.objects.all().query.get_compiler(DEFAULT_DB_ALIAS)
        rows = [
            compiler.compile(UserBucket(Value(user_id, output_field=UUIDField())))
            for user_id in set(user_ids)
        ]
    if not rows:
        return
    table = _table(UserTallyChange, DEFAULT_DB_ALIAS)
    values = ", ".join(f"({sql})" for sql, _ in rows)
    params: list[Any] = [param for _, row_params in rows for param in row_params]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (bucket) VALUES {values}", params)  # noqa: S608


def tallies_build(*, every: bool = False) -> int:
    """Build the tallies of the buckets counted live (``every``: of all buckets, as after a
    restore or a backfill), set-based: delete their change rows and tallies, insert their
    figures with one ``INSERT … SELECT`` and mark them built. Returns the buckets built."""
    with transaction.atomic():
        _lock()
        buckets = None if every else unbuilt()
        if buckets == []:
            return 0
        if buckets is not None and len(buckets) == BUCKETS:
            buckets = None  # all of them: the whole tables, not a filter per row
        chosen = Q() if buckets is None else Q(bucket__in=buckets)
        # The change rows committed by now, and only those: the count, a later statement,
        # sees their writes; one committed after this statement stays, for the next build.
        UserTallyChange.objects.filter(chosen).delete()
        UserTally.objects.filter(chosen).delete()
        return _count(buckets)


def _count(buckets: list[int] | None) -> int:
    """Insert the tallies of ``buckets`` (None: every bucket), counted from the rows as they
    are now, and their ``built`` markers."""
    sql, params = _rows_sql(DEFAULT_DB_ALIAS, _families(), buckets)
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(UserTally, DEFAULT_DB_ALIAS)} "
            f"(bucket, metric, {q('key')}, value) {sql}",
            params,
        )
    built = range(BUCKETS) if buckets is None else buckets
    UserTally.objects.bulk_create([UserTally(bucket=b, metric=BUILT, value=0) for b in built])
    return len(built)


def _lock() -> None:
    """One build at a time (two would each insert a bucket's tallies). SQLite's write
    transactions are serial."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TALLY_LOCK])


def analytics_rebuild(*, since: date | None = None) -> dict[str, int]:
    """Every derived row of analytics anew: ``recommendations.state.analytics_rebuild`` (the
    current-state rows, the rollups of the closed days since ``since``), then every bucket's
    tallies. After rows were written outside the services (a restore, a seed)."""
    done = state.analytics_rebuild(since=since)
    return {**done, "buckets": tallies_build(every=True)}
