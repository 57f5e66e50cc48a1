# The two commands a newcomer needs: `make run` and `make test`. Everything else helps them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint venv migrate schema client-check clean bench soak bench-upload bench-engine bench-scale

## run: set everything up and serve the API on http://127.0.0.1:8000 (embedded mode)
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --users 24 --seed 7 --if-empty --operator
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite with coverage (fails under 80 %)
test: venv
	$(BIN)/pytest --cov --cov-report=term --cov-fail-under=80 $(PYTEST_ARGS)

## lint: ruff (lint and format), mypy, and the apps' one order (import-linter, pyproject.toml)
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

## schema: write and validate the OpenAPI schema
schema: venv
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

## client-check: the schema as client developers meet it (Redocly lint, generated Python
## client running the main flow, TypeScript types and an openapi-fetch flow); needs npm
client-check: venv
	bash .ci/client-check

## bench: the API under load (gunicorn, production settings, PostgreSQL, Redis; needs wrk)
bench: venv
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

## soak: 1000 concurrent users with think time for 60 s (locust); error rate under 0.1 %
soak: venv
	$(BIN)/python bench/soak.py

## bench-upload / bench-engine: the pipeline's and the engine's figures on the configured database
bench-upload: venv
	$(BIN)/python manage.py bench_upload

bench-engine: venv
	$(BIN)/python manage.py bench_engine --users 1000

## bench-scale: USERS (100000) bench users seeded with COPY, the operator's reads timed over
## HTTP against gunicorn; PostgreSQL only (DATABASE_URL), docs/performance.md "At scale"
USERS ?= 100000
bench-scale: venv
	$(BIN)/python manage.py bench_scale --users $(USERS)

venv: $(STAMP)

# Re-install whenever a requirements file changes.
$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $@

clean:
	rm -rf $(VENV) var .coverage .pytest_cache .mypy_cache .ruff_cache
