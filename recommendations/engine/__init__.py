"""The engine: pure functions over plain data. No ORM, no clock: callers load data and pass
``as_of``. That keeps every figure testable without a database and benchmarkable."""

ENGINE_VERSION = "2026.11.1"
