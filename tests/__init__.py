"""Shared test support (``tests.support``); the tests themselves live in each app's ``tests/``."""
