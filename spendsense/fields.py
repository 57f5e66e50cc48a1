"""Model fields shared by the apps."""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class Serialised(dict[str, Any]):
    """A document whose JSON text is made already: ``text`` is the JSON of this very dict (in
    any key order and spacing: the column is ``jsonb``). A ``DocumentField`` writes the text
    instead of serialising the dict again; read back, the column holds the dict as usual.

    Recompute gives its decision traces this way: the traces of one recompute share most of
    their content (signals, personas, excluded offers), serialised once for all of them."""

    def __init__(self, document: dict[str, Any], text: str) -> None:
        super().__init__(document)
        self.text = text


class _Serialised(json.JSONEncoder):
    """What the database backends' ``adapt_json_value`` serialises a ``Serialised`` with."""

    def encode(self, o: Any) -> str:
        return o.text if isinstance(o, Serialised) else super().encode(o)


class DocumentField(models.JSONField):
    """A ``JSONField`` for documents of a kilobyte or more (signal snapshots, decision traces)
    that are written several rows at a time.

    On PostgreSQL Django bulk-inserts rows as ``UNNEST`` of one array per column. With
    psycopg's client-side binding, the array of JSON texts is quoted in Python, one regular
    expression substitution per double quote of every document: inserting seven 4 KB traces
    took about 12 ms that way against 5 ms as plain ``VALUES`` rows, each document quoted
    once by libpq. A field with ``get_placeholder`` makes Django use ``VALUES``; the
    column, its SQL type and what it stores are those of ``JSONField``. A ``Serialised``
    value is written as its text, not serialised again.
    """

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        return "%s"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if isinstance(value, Serialised):
            return connection.ops.adapt_json_value(value, _Serialised)
        return super().get_db_prep_value(value, connection, prepared)
