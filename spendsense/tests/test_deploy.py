"""What the image relies on: the gunicorn configuration, and static files collected the way
the Dockerfile collects them, served in production mode."""

from __future__ import annotations

import gc
import json
import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.support import djangoproc
from tests.support.djangoproc import production_env

GUNICORN_CONF = djangoproc.REPO / "deploy" / "gunicorn.conf.py"


def test_gunicorn_configuration() -> None:
    with mock.patch.dict(os.environ, {"PORT": "9000"}, clear=False):
        conf = runpy.run_path(str(GUNICORN_CONF))

    assert conf["bind"] == "0.0.0.0:9000"
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] == os.cpu_count() * 2 + 1  # type: ignore[operator]
    assert conf["keepalive"] > 60  # outlives the ALB's idle timeout
    assert conf["timeout"] == 30
    assert conf["accesslog"] is None  # the app's JSON access line is the one per request
    assert conf["preload_app"] is True
    sample = conf["access_log_format"] % {
        "t": "[25/Nov/2026:10:00:00 +0000]",
        "{x-request-id}o": "abc",
        "m": "GET",
        "U": "/health",
        "s": "200",
        "B": "15",
        "M": "3",
        "h": "10.0.0.1",
        "a": "ELB-HealthChecker/2.0",
    }
    assert json.loads(sample)["request_id"] == "abc"


def test_gunicorn_freezes_the_preloaded_heap_before_forking() -> None:
    conf = runpy.run_path(str(GUNICORN_CONF))
    gc.unfreeze()

    conf["pre_fork"](None, None)

    try:
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_wsgi_warm_up_refuses_a_bad_signing_key(settings: Any) -> None:
    from spendsense.wsgi import _warm

    settings.JWT_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
    with pytest.raises(ValueError, match="PEM"):
        _warm()


def test_collected_static_files_serve_the_console_in_production(tmp_path: Path) -> None:
    static_root = tmp_path / "static"
    build = djangoproc.clean_env(
        tmp_path / "build",
        DJANGO_DEBUG="true",
        DJANGO_STATIC_MANIFEST="true",
        DJANGO_STATIC_ROOT=str(static_root),
    )

    collected = djangoproc.manage(build, "collectstatic", "--noinput", "--verbosity", "0")

    assert collected.returncode == 0, collected.stderr
    assert (static_root / "staticfiles.json").exists()
    code = (
        "from django.test import Client\n"
        "page = Client().get('/admin/login/', HTTP_HOST='api.example.com', secure=True)\n"
        "css = [l for l in page.content.decode().split('\"') if l.endswith('.css')][0]\n"
        "asset = Client().get(css, HTTP_HOST='api.example.com', secure=True)\n"
        "print(json.dumps({'page': page.status_code, 'css': css, 'asset': asset.status_code}))"
    )
    env = djangoproc.clean_env(
        tmp_path / "run", **production_env(DJANGO_STATIC_ROOT=str(static_root))
    )

    result = djangoproc.run_json(code, env)

    assert result["page"] == 200
    assert result["asset"] == 200
    assert result["css"].count(".") >= 2  # a hashed name, e.g. base.5af66c1b1797.css
