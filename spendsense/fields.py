"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models


class DocumentField(models.JSONField):
    """A ``JSONField`` for documents of a kilobyte or more (signal snapshots, decision traces)
    that are written several rows at a time.

    On PostgreSQL Django bulk-inserts rows as ``UNNEST`` of one array per column. With
    psycopg's client-side binding, the array of JSON texts is quoted in Python, one regular
    expression substitution per double quote of every document: inserting seven 4 KB traces
    took about 12 ms that way against 5 ms as plain ``VALUES`` rows, each document quoted
    once by libpq. A field with ``get_placeholder`` makes Django use ``VALUES``; the
    column, its SQL type and what it stores are those of ``JSONField``.
    """

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        return "%s"
