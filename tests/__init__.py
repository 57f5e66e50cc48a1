"""Tests that run across the apps: the whole stack at once (erasure from every entry point,
the hot path, cache coherence, faults), and ``tests.support``, the helpers every test calls.
They sit above every app, so they may import any of them; an app's own tests import only that
app, the apps below it and ``tests.support`` (pyproject.toml, [tool.importlinter]), never
another test module."""
