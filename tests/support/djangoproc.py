"""Run Django code in a fresh interpreter under a chosen environment.

Settings are read from the environment once, at import; the only honest way to test a run
mode is to start a process in it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
# Variables that select a run mode; cleared so each probe starts from "nothing set".
_MODE_PREFIXES = ("DJANGO_", "THROTTLE_", "CELERY_", "JWT_", "OAUTH_", "SMS_", "CORS_")
_MODE_NAMES = {
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "TRUSTED_PROXY_COUNT",
    "AWS_SECRETS_MANAGER_SECRET_ID",
}


def clean_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _MODE_NAMES and not key.startswith(_MODE_PREFIXES)
    }
    env["SPENDSENSE_VAR_DIR"] = str(var_dir)
    env["PYTHONPATH"] = str(REPO)
    env.update(overrides)
    return env


def run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` after ``django.setup()``; ``args`` are passed as ``sys.argv[1:]``."""
    prologue = (
        "import os, json, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'spendsense.settings')\n"
        "django.setup()\n"
    )
    return _python(env, "-c", prologue + code, *args)


def run_json(code: str, env: dict[str, str]) -> Any:
    """Run ``code``, which must print one JSON document last; return it parsed."""
    result = run(code, env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _python(env, "manage.py", *args)


PRODUCTION_SECRET = "production-secret-for-tests-only-0123456789-abcdefghijklmnop"


@lru_cache(maxsize=1)
def production_jwt_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production_env(**extra: str) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": PRODUCTION_SECRET,
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "JWT_PRIVATE_KEY": production_jwt_key(),
        **extra,
    }


def _python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """This interpreter with ``args``, from the repo root; the caller judges the exit code."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
