"""Several SQL statements in one round trip to the database.

A recompute reads what is stored and the person's data, then (when something changed) locks
the person, reads again and writes: a dozen statements, each a round trip that waits on the
database server. On a busy machine the waits, not the work, were most of a recompute.

``run(statements)`` runs ``Statement``s and returns each one's rows. On PostgreSQL, Django's
psycopg cursor binds parameters client-side and sends a text with the simple query protocol,
which carries several statements: they go in one message (one round trip) and
``nextset()`` walks their results. They still run one after another, each on its own: in
READ COMMITTED each takes its own snapshot, so a statement after a row lock sees what the
lock waited for; the first error stops the rest and is raised, and inside
``transaction.atomic()`` the whole transaction rolls back as usual. Elsewhere (SQLite, or
PostgreSQL with ``server_side_binding``, whose extended protocol takes one statement per
message) they run one by one, with the same results.

``select(queryset)`` and ``insert(objs, ...)`` make the statements Django itself would run
for ``list(queryset)`` of a ``values_list`` and for ``bulk_create(objs, ...)``, so the rows
come back converted as the ORM converts them (``Decimal``, dates, JSON) and the rows go in
prepared as the ORM prepares them, on any backend.

Each statement's text is in the driver's parameter style (``%s``; ``%%`` for a literal
``%``), as ``cursor.execute(sql, params)`` takes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

Rows = list[tuple[Any, ...]]


class Statement(NamedTuple):
    """One SQL statement, its parameters, and how its rows become what the caller reads."""

    sql: str
    params: Sequence[Any] = ()
    convert: Callable[[Rows], Rows] | None = None


def one_round_trip(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``run`` sends its statements together on the database ``using``."""
    connection = connections[using]
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


def run(statements: Sequence[Statement], using: str = DEFAULT_DB_ALIAS) -> list[Rows]:
    """Run ``statements`` in order, in one round trip where the database allows it, and return
    each one's rows (``[]`` for a statement that returns none)."""
    if not statements:
        return []
    connection = connections[using]
    results: list[Rows] = []
    with connection.cursor() as cursor:
        if one_round_trip(using):
            cursor.execute(
                ";\n".join(s.sql for s in statements),
                [param for s in statements for param in s.params],
            )
            for index in range(len(statements)):
                if index and not cursor.nextset():
                    raise RuntimeError(f"{len(statements)} statements sent, {index} answered")
                results.append(cursor.fetchall() if cursor.description is not None else [])
        else:
            for statement in statements:
                cursor.execute(statement.sql, list(statement.params))
                results.append(cursor.fetchall() if cursor.description is not None else [])
    return [
        s.convert(rows) if s.convert is not None else rows
        for s, rows in zip(statements, results, strict=True)
    ]


def select(queryset: models.QuerySet[Any, Any], using: str = DEFAULT_DB_ALIAS) -> Statement:
    """The statement of ``queryset`` (a ``values_list``) on ``using``: its rows come back as
    tuples of the values the queryset itself would give (the fields' converters applied)."""
    compiler = queryset.query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(fields).items())
    width = compiler.col_count if compiler.has_extra_select else None
    if not converters and width is None:
        return Statement(sql, tuple(params))

    def convert(rows: Rows) -> Rows:
        """``SQLCompiler.apply_converters``, with the connection of the caller's thread."""
        connection = connections[using]
        converted = []
        for row in rows:
            values = list(row[:width] if width is not None else row)
            for position, (functions, expression) in converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            converted.append(tuple(values))
        return converted

    return Statement(sql, tuple(params), convert)


class PerKey:
    """A ``select`` compiled once per database alias, then reused with another key: for a
    query made again and again that differs only in one value, such as a user's id (compiling
    a queryset costs more than running a small one).

    ``build(key)`` makes the queryset; it is compiled with ``PLACEHOLDER`` as the key, and
    each call puts the key, prepared as ``field`` prepares it, where the placeholder was.
    """

    PLACEHOLDER = uuid.UUID(int=0)  # never a uuid4 (its version bits are 0)

    def __init__(
        self, build: Callable[[Any], models.QuerySet[Any, Any]], field: models.Field[Any, Any]
    ) -> None:
        self.build = build
        self.field = field
        self._compiled: dict[str, tuple[Statement, list[int]]] = {}

    def __call__(self, key: Any, using: str = DEFAULT_DB_ALIAS) -> Statement:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compile(using)
        statement, positions = compiled
        prepared = self.field.get_db_prep_value(key, connections[using])
        params = list(statement.params)
        for position in positions:
            params[position] = prepared
        return statement._replace(params=tuple(params))

    def _compile(self, using: str) -> tuple[Statement, list[int]]:
        statement = select(self.build(self.PLACEHOLDER), using)
        placeholder = self.field.get_db_prep_value(self.PLACEHOLDER, connections[using])
        positions = [i for i, param in enumerate(statement.params) if param == placeholder]
        if not positions:
            raise ValueError("the queryset does not use its key as a parameter")
        self._compiled[using] = (statement, positions)
        return statement, positions


def insert(
    objs: Sequence[models.Model],
    *,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> list[Statement]:
    """The statements of ``Model.objects.bulk_create(objs, update_conflicts=bool(update_fields),
    unique_fields=..., update_fields=...)``, without reading back primary keys: every row in
    one statement where the backend takes that many parameters, in batches otherwise.

    ``objs`` are unsaved instances of one model, all with their primary key set or none; as
    with ``bulk_create``, no ``save()`` runs and no signal is sent, ``auto_now`` and
    ``auto_now_add`` fields take the time the statement is made.
    """
    if update_fields and not unique_fields:
        raise ValueError("update_fields need unique_fields to find the rows to update")
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    with_pk = objs[0].pk is not None
    if any(type(obj) is not model or (obj.pk is not None) != with_pk for obj in objs):
        raise ValueError("insert() takes instances of one model, all with a primary key or none")
    connection = connections[using]
    for obj in objs:  # as bulk_create does: refuses a related object that is not saved
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    fields = [
        f
        for f in meta.concrete_fields
        if not f.generated and (with_pk or not isinstance(f, models.AutoField))
    ]
    conflict = {
        "on_conflict": OnConflict.UPDATE if update_fields else None,
        "update_fields": [meta.get_field(name) for name in update_fields] or None,
        "unique_fields": [meta.get_field(name) for name in unique_fields] or None,
    }
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    statements = []
    for start in range(0, len(objs), size):
        query = InsertQuery(model, **conflict)  # type: ignore[arg-type]
        query.insert_values(fields, list(objs[start : start + size]))
        for sql, params in query.get_compiler(using=using).as_sql():
            statements.append(Statement(sql, tuple(params)))
    return statements
