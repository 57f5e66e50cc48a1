"""Tests that run across the apps: the whole stack at once (erasure from every entry point,
the hot path, cache coherence, faults). They sit above every app, so they may import any of
them; an app's own tests import only that app and the apps below it (pyproject.toml,
[tool.importlinter])."""
