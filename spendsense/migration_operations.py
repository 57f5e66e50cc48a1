"""Migration operations that keep a large table writable while its schema changes."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently as _PostgresAddIndex
from django.db.migrations import AddIndex


class AddIndexConcurrently(_PostgresAddIndex):
    """``AddIndex`` without blocking writes on PostgreSQL (``CREATE INDEX CONCURRENTLY``: the
    migration sets ``atomic = False``); a plain ``AddIndex`` on other databases (SQLite in
    embedded mode). An interrupted concurrent build leaves an invalid index: drop it and
    migrate again."""

    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *args)
