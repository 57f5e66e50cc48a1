# syntax=docker/dockerfile:1
# SpendSense backend: wheels built in a builder stage, a slim non-root runtime.
# One image, four commands (ECS overrides CMD): web (default), worker, beat, migrate.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements/ requirements/
RUN pip wheel --wheel-dir /wheels -r requirements/prod.txt

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_DEBUG=false \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    SPENDSENSE_VAR_DIR=/tmp/spendsense \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/*.whl && rm -rf /wheels
COPY --chown=app:app . .
# Static files are collected at build time (hashed, compressed; served by whitenoise). The
# throwaway development settings only read the code; no secret of production is involved.
RUN DJANGO_DEBUG=true DJANGO_STATIC_MANIFEST=true SPENDSENSE_VAR_DIR=/tmp/build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4)"]
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "spendsense.wsgi:application"]
