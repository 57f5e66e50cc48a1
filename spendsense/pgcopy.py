"""Bulk writes on PostgreSQL through ``COPY``: many model rows in, one statement to merge them.

``copy_upsert(Model, fields, rows, unique_fields=..., update_fields=...)`` streams ``rows``
with psycopg's ``cursor.copy()`` (``COPY … FROM STDIN``) into a temporary table shaped like
the model's columns (``ON COMMIT DROP``), then merges it with one
``INSERT … SELECT … ON CONFLICT (unique_fields) DO UPDATE … WHERE (the row differs)`` and
reports how many rows it created and how many it changed. It is what ``bulk_create(…,
update_conflicts=True)`` does, without Django compiling a parameter per value: a
70,000-row upload spent most of its ingestion there (docs/decisions.md, Performance).

Rules of use:

- PostgreSQL only (``available()`` says whether a connection is), inside
  ``transaction.atomic()``: the rows and the temporary table live and die with the caller's
  transaction, so a failure half-way leaves nothing written.
- ``rows`` are sequences of Python values in the order of ``fields`` (model field names;
  ``"user"`` or ``"user_id"`` for a foreign key, whose value is the related primary key),
  the values the model's fields take (``Decimal``, ``date``, ``bool``, ``None``, a dict or
  list for a ``JSONField``, ...). Their keys (``unique_fields``) must not repeat.
- A concrete field left out of ``fields`` gets what ``Model(...)`` would give it: its
  default (called per row when callable), or for ``auto_now`` and ``auto_now_add`` the
  time of the call (``timezone.now()``, one value for every row); an automatic primary key,
  a generated column or one with a ``db_default`` is left to the database.
- Without ``unique_fields`` the rows are copied straight into the table, with no temporary
  table and no merge (a duplicate key raises ``IntegrityError``); with ``unique_fields`` (a
  unique constraint's fields) and no ``update_fields`` existing rows are left as they are;
  with both, an existing row whose ``update_fields`` differ (``IS DISTINCT FROM``: NULLs
  compare, numbers by value, JSON as ``jsonb``) is updated, with its ``auto_now`` fields,
  and an equal row is not written.

Errors come as Django's database exceptions (``IntegrityError``, ``DataError``, ...), as from
the ORM. Text goes through COPY's text format, escaped by psycopg (tabs, newlines and
backslashes arrive as sent); U+0000 cannot be stored in PostgreSQL text at all and raises
``DataError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.fields import NOT_PROVIDED, AutoFieldMixin
from django.db.transaction import TransactionManagementError
from django.utils import timezone

# Memory the merge may sort its rows in (PostgreSQL's default, 4 MB, spills 70,000 rows to
# disk; sorting them there cost about 0.2 s of the server's CPU).
_MERGE_WORK_MEM = "64MB"


class Written(NamedTuple):
    """What ``copy_upsert`` did: rows inserted, and existing rows it changed."""

    created: int
    updated: int


def available(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``copy_upsert`` can write to the database ``using`` (PostgreSQL)."""
    return connections[using].vendor == "postgresql"


# Fields whose values psycopg adapts itself as Django's ``get_db_prep_save`` would on
# PostgreSQL (the backend passes them through). Exact classes: a subclass may prepare its
# values its own way, so it goes through ``get_db_prep_save`` like any other field.
_NATIVE: tuple[type[models.Field[Any, Any]], ...] = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DateTimeField,
    models.DecimalField,
    models.FloatField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
    models.UUIDField,
)


def copy_upsert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> Written:
    """Write ``rows`` (values in the order of ``fields``) into ``model``'s table through COPY
    and one merging ``INSERT``; see the module's docstring for the rules."""
    connection = connections[using]
    if not available(using):
        raise NotImplementedError(f"copy_upsert needs PostgreSQL, not {connection.vendor}")
    if not connection.in_atomic_block:
        raise TransactionManagementError("copy_upsert runs inside transaction.atomic()")
    if update_fields and not unique_fields:
        raise ValueError("update_fields need unique_fields to find the rows to update")
    meta = model._meta
    plan = _Plan(
        quote=connection.ops.quote_name,
        table=meta.db_table,
        given=[_field(model, name) for name in fields],
        concrete=list(meta.concrete_fields),
    )
    statement = plan.merge(
        keys=[_field(model, name) for name in unique_fields],
        updates=[_field(model, name) for name in update_fields],
    )
    if not unique_fields:
        # Nothing to merge: the rows go straight into the table. The time of the call is
        # sent as ISO 8601 text, formatted once (psycopg would format the datetime per row:
        # 0.08 s of 71,000).
        stamps = [timezone.now().isoformat()] * len(plan.stamped)
        prepared = _prepared(rows, plan.given, plan.defaulted, connection, stamps)
        with connection.cursor() as cursor:
            with connection.wrap_database_errors, cursor.cursor.copy(plan.copy_in()) as copy:
                write = copy.write_row
                for row in prepared:
                    write(row)
            return Written(created=cursor.cursor.rowcount, updated=0)
    prepared = _prepared(rows, plan.given, plan.defaulted, connection)
    with connection.cursor() as cursor:
        cursor.execute(plan.create())
        with connection.wrap_database_errors, cursor.cursor.copy(plan.copy()) as copy:
            write = copy.write_row
            for row in prepared:
                write(row)
        # The merge sorts the rows by key: in memory, not in temporary files (a 70,000-row
        # upload is about 15 MB), for this statement only.
        cursor.execute("SELECT current_setting('work_mem')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('work_mem', %s, true)", [_MERGE_WORK_MEM])
        cursor.execute(statement, [timezone.now()] * len(plan.stamped))
        created, updated = cursor.fetchone()
        cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])
        cursor.execute(plan.drop())
    return Written(created=created, updated=updated)


class _Plan:
    """The statements of one ``copy_upsert``. Every name in them is the model's own (table
    and column names from its ``_meta``), quoted by the backend; values travel in the COPY
    stream or as parameters, never in the text."""

    def __init__(
        self,
        *,
        quote: Callable[[str], str],
        table: str,
        given: list[models.Field[Any, Any]],
        concrete: list[models.Field[Any, Any]],
    ) -> None:
        self.quote = quote
        self.table = quote(table)
        self.temporary = quote(f"_copy_{table}"[:63])
        self.given = given
        missing = [field for field in concrete if field not in given]
        # Stamped with the time of the call, once, as a parameter.
        self.stamped = [field for field in missing if _auto_now(field) or _auto_now_add(field)]
        # Given a default per row, as Model(...) would; the database fills the rest.
        self.defaulted = [
            field
            for field in missing
            if field not in self.stamped
            and not isinstance(field, AutoFieldMixin)
            and not field.generated
            and field.db_default is NOT_PROVIDED
        ]
        self.columns = ", ".join(quote(field.column) for field in (*given, *self.defaulted))

    def create(self) -> str:
        return (
            f"CREATE TEMPORARY TABLE {self.temporary} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {self.columns} FROM {self.table} WITH NO DATA"
        )

    def copy(self) -> str:
        return f"COPY {self.temporary} ({self.columns}) FROM STDIN"

    def copy_in(self) -> str:
        """COPY into the table itself, the stamped columns last."""
        stamps = "".join(f", {self.quote(field.column)}" for field in self.stamped)
        return f"COPY {self.table} ({self.columns}{stamps}) FROM STDIN"

    def drop(self) -> str:
        return f"DROP TABLE {self.temporary}"

    def merge(
        self, *, keys: list[models.Field[Any, Any]], updates: list[models.Field[Any, Any]]
    ) -> str:
        """The INSERT … SELECT from the temporary table, counting what it created and
        updated. Rows go in key order, so two merges into the same keys (two uploads of one
        user at once) take their row locks in one order and cannot deadlock."""
        quote = self.quote
        stamps = ", ".join(quote(field.column) for field in self.stamped)
        placeholders = ", ".join("%s" for _ in self.stamped)
        sql = (
            f"INSERT INTO {self.table} AS target ({self.columns}{', ' if stamps else ''}"  # noqa: S608
            f"{stamps}) SELECT {self.columns}{', ' if stamps else ''}{placeholders} "
            f"FROM {self.temporary}"
        )
        if keys:
            key_columns = ", ".join(quote(field.column) for field in keys)
            sql += f" ORDER BY {key_columns} ON CONFLICT ({key_columns}) "
            if updates:
                refreshed = [*updates, *filter(_auto_now, self.stamped)]
                compared = [quote(field.column) for field in updates]
                sql += (
                    "DO UPDATE SET "
                    + ", ".join(
                        f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in refreshed
                    )
                    + f" WHERE ({', '.join(f'target.{c}' for c in compared)})"
                    + f" IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in compared)})"
                )
            else:
                sql += "DO NOTHING"
        # A row inserted has xmax 0; a row updated by ON CONFLICT carries its lock's.
        return (
            f"WITH written AS ({sql} RETURNING xmax = 0 AS created) "  # noqa: S608
            "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) "
            "FROM written"
        )


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _auto_now(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "auto_now", False))


def _auto_now_add(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "auto_now_add", False))


def _prepared(
    rows: Iterable[Sequence[Any]],
    given: Sequence[models.Field[Any, Any]],
    defaulted: Sequence[models.Field[Any, Any]],
    connection: Any,
    stamps: Sequence[Any] = (),
) -> Iterable[Sequence[Any]]:
    """``rows`` as COPY takes them: the defaults of the fields not given appended, then
    ``stamps``, and values prepared by their field where psycopg's own adaptation is not
    Django's (a dict or list for JSON, say)."""
    preps = [
        (index, _prep(field, connection))
        for index, field in enumerate((*given, *defaulted))
        if not _native(field)
    ]
    defaults = [field.get_default for field in defaulted]
    if not preps and not defaults:
        return ((*row, *stamps) for row in rows) if stamps else rows
    return (_row(row, preps, defaults, stamps) for row in rows)


def _row(
    row: Sequence[Any],
    preps: list[tuple[int, Callable[[Any], Any]]],
    defaults: list[Callable[[], Any]],
    stamps: Sequence[Any],
) -> list[Any]:
    values = [*row, *(default() for default in defaults), *stamps]
    for index, prep in preps:
        values[index] = prep(values[index])
    return values


def _native(field: models.Field[Any, Any]) -> bool:
    if field.is_relation:
        return _native(field.target_field)  # type: ignore[attr-defined]
    return type(field) in _NATIVE


def _prep(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    def prep(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return prep
