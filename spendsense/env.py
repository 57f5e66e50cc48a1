"""Reading the environment: the only place settings get their raw values from.

Values are parsed strictly: a typo in a boolean or an integer stops start-up with a clear
message instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    """The variable's value stripped of surrounding white space, or ``default``."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """Return the text in ``path``, creating it with ``make()`` if it does not exist yet.

    The file is created with an exclusive create (``O_EXCL``), mode 0600: when several
    workers start at once exactly one writes it and the others read what it wrote.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    # Another process may have won the race and still be writing: wait for content.
    for _ in range(100):
        text = path.read_text()
        if text:
            return text
        time.sleep(0.01)
    raise ImproperlyConfigured(f"{path} exists but is empty; delete it to regenerate")


def load_secrets_manager() -> list[str]:
    """When ``AWS_SECRETS_MANAGER_SECRET_ID`` is set, read that secret (a JSON object of
    variable names to values) and fill in every variable the environment does not set.

    A variable set in the environment wins, so an operator can override one value without
    editing the secret. Returns the names it filled in.
    """
    secret_id = os.environ.get("AWS_SECRETS_MANAGER_SECRET_ID", "").strip()
    if not secret_id:
        return []
    import json

    import boto3

    client = boto3.client(
        "secretsmanager",
        endpoint_url=os.environ.get("AWS_SECRETS_MANAGER_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
    )
    try:
        raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
        values = json.loads(raw)
    except Exception as error:
        raise ImproperlyConfigured(f"Could not read secret {secret_id!r}: {error}") from error
    if not isinstance(values, dict):
        raise ImproperlyConfigured(f"Secret {secret_id!r} must be a JSON object of variables")
    filled = []
    for name, value in values.items():
        if name not in os.environ and isinstance(value, str):
            os.environ[name] = value
            filled.append(name)
    return filled
