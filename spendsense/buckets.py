"""Users split into a fixed number of buckets by id, for running tallies kept per bucket
(``operator_console.tallies``): a deterministic function of the id, in SQL, that an index on
the expression serves.

The bucket is the id's last 16 bits modulo ``BUCKETS``, a prime: random ids (uuid4) spread
evenly, and so do ids whose hex digits are decimal digits of a counter (``bench_scale``'s
``5eed0001-0000-4000-8000-000000000123``), which a power of two would put in 100 buckets of
256. 251 buckets keep a tally read to a few thousand rows whatever the user count, and a
bucket marked changed costs a recount of 1/251 of the users.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Func, IntegerField

BUCKETS = 251

_HEX = "'0123456789abcdef'"


class UserBucket(Func):
    """The bucket (0 to ``BUCKETS`` - 1) of the user id that its one argument names: a column
    (``UserBucket("user_id")``) or a value (``UserBucket(Value(id, UUIDField()))``)."""

    arity = 1
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        byte = "get_byte(uuid_send({}), {})"
        return (
            f"(({byte.format(sql, 14)} * 256 + {byte.format(sql, 15)}) %% {BUCKETS})",
            (*params, *params),
        )

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> tuple[str, Any]:
        """Other databases store a uuid as 32 hex digits: the last four, read as a number."""
        sql, params = compiler.compile(self.source_expressions[0])
        digits = [
            f"(instr({_HEX}, substr({sql}, {29 + n}, 1)) - 1) * {16 ** (3 - n)}" for n in range(4)
        ]
        return f"(({' + '.join(digits)}) %% {BUCKETS})", tuple(params) * 4
