"""WSGI entry point (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spendsense.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Work each worker would otherwise repeat on its first requests, done once here:
    gunicorn preloads this module (``preload_app``) and forks the workers after it.

    A new worker (at each start, and at every recycle) used to spend about 0.4 s of CPU on
    its first requests importing what Django and DRF import lazily (every URLconf and view,
    the cache and database backends, DRF's configured classes) and validating the JWT
    signing key, while requests queued behind it. Nothing here opens a connection: sockets
    must not be shared by forked workers. A bad signing key now stops the start.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections
    from django.urls import get_resolver
    from rest_framework.settings import DEFAULTS, api_settings

    from accounts.tokens import keys

    keys()
    get_resolver().url_patterns  # noqa: B018  # imports every URLconf and view
    for alias in settings.CACHES:
        caches[alias]  # the backend and its client's modules, not connected
    for alias in settings.DATABASES:
        connections[alias]  # the backend's modules, not connected
    for name in DEFAULTS:
        getattr(api_settings, name)  # imports the classes DRF's settings name


_warm()
