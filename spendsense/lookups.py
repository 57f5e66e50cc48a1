"""Query lookups shared by the apps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models.lookups import In


class AnyOf(In):
    """``In`` for long lists of values: on PostgreSQL ``lhs = ANY(%s)`` with the values as one
    array parameter, elsewhere ``IN (...)`` as usual.

    ``IN`` takes a placeholder per value, and Django prepares and psycopg quotes each one in
    Python: looking up the 7,400 ids of a 10 MB upload that way took about 0.1 s, one array
    about 0.02 s. Used as an expression: ``filter(AnyOf(F("transaction_id"), ids))``.
    """

    lookup_name = "any_of"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
            if value is not None
        ]
        if not values:
            raise EmptyResultSet  # as IN: NULL is never equal to anything
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)
