# Every target sets up what it needs first; see README.md.
SHELL := /bin/bash
APP_PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa

.PHONY: setup setup-app setup-rasa run test test-unit lint train validate bench eval content-check \
        extract update compile translations-export translations-import clean lock audit

setup: setup-app setup-rasa compile

setup-app:
	@scripts/setup.sh app

setup-rasa:
	@scripts/setup.sh rasa

## Train the Rasa model only when nlu/ or the content it reads changed (cache in models/).
train: setup
	@$(APP_PY) -m bot.devtools.train

## Start Rasa (NLU only) and the app on loopback; Ctrl-C stops both (they die with the runner).
run: setup train
	@$(APP_PY) -m bot.devtools.run

## The whole suite: lint, unit tests, then integration tests against the real Rasa server.
test: setup lint train validate content-check
	@$(APP_PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "test: pytest collected no test" >&2; exit 1; fi; exit $$rc

test-unit: setup-app compile
	@$(APP_PY) -m pytest -q -p no:cacheprovider -m "not integration" $(PYTEST_ARGS)

## ruff on bot/ and tests/, mypy on the core, the store and the channels (pyproject.toml).
lint: setup-app
	@.venv/bin/ruff check bot tests
	@.venv/bin/mypy

validate: setup
	@$(APP_PY) -m bot.devtools.train --validate-only

content-check: setup-app
	@$(APP_PY) -m bot.content check

## Pin the app environment with hashes after editing requirements/app.txt or dev.in (pip-tools;
## the production image installs app.lock only, tests and tools come from dev.lock).
PIP_COMPILE := $(APP_PY) -m piptools compile --quiet --generate-hashes --allow-unsafe \
               --strip-extras --no-emit-index-url --no-emit-find-links
lock: setup-app
	@$(PIP_COMPILE) --output-file requirements/app.lock requirements/app.in
	@$(PIP_COMPILE) --output-file requirements/dev.lock requirements/dev.in
	@echo "lock: requirements/app.lock and requirements/dev.lock written; commit them"

## Known vulnerabilities in the locks (pip-audit); says NOT CHECKED when no database answers.
audit: setup-app
	@$(APP_PY) -m bot.devtools.audit

bench: setup train
	@$(APP_PY) -m bot.devtools.bench $(BENCH_ARGS)

eval: setup
	@$(APP_PY) -m bot.devtools.evaluate $(EVAL_ARGS)

## Interface text (gettext catalogues under locales/).
extract: setup-app
	@$(APP_PY) -m bot.i18n extract
update: setup-app
	@$(APP_PY) -m bot.i18n update
compile: setup-app
	@$(APP_PY) -m bot.i18n compile
translations-export: setup-app
	@$(APP_PY) -m bot.i18n export $(OUT)
translations-import: setup-app
	@$(APP_PY) -m bot.i18n import $(IN)

clean:
	rm -rf var models .pytest_cache
