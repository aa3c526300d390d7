# Posada — one entry point for people, CI and editors.
#   make run    the whole mesh on embedded defaults (installs what is missing first)
#   make test   lint + unit + e2e tests (installs what is missing first)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
UV_VERSION ?= 0.13.9
VENV := .venv
BIN := $(VENV)/bin
UV := $(PYTHON) -m uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy
APT_RUNTIME := espeak-ng
APT_TEST := chromium docker-compose dovecot-imapd prometheus


.PHONY: k8s-render k8s-check proto-breaking
.PHONY: help eval install uv system-deps system-test-deps sync models train-nlp proto proto-check envoy envoy-check \
        lint format typecheck test test-unit test-e2e run observe status bench clean

help:
	@grep -E '^[a-z0-9-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

uv:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || { echo "» installing uv $(UV_VERSION)"; $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"; }

system-deps: ## Debian packages the services need at run time (root only)
	@bash scripts/apt_install.sh $(APT_RUNTIME)

system-test-deps: ## Debian packages the tests need (headless Chromium, docker-compose for config validation, Dovecot for the IMAP tests, prometheus + promtool)
	@bash scripts/apt_install.sh $(APT_TEST)

sync: uv
	@echo "» syncing .venv from uv.lock"
	@$(UV) sync --all-packages --locked --quiet

install: system-deps sync models ## venv with every package editable, CLIs in .venv/bin, models ready
	@echo "» install complete: $(BIN)/hotelctl, $(BIN)/hotel-nlp, $(BIN)/hotel-audio"

models: sync ## build model artifacts that are missing (speech model, NLP model)
	@bash scripts/prepare_models.sh

train-nlp: sync ## retrain the NLP model (fixed seed)
	@$(BIN)/hotel-nlp train

proto: sync ## regenerate libs/contracts from protos/
	@cd protos && ../$(BIN)/buf lint
	@$(BIN)/python scripts/gen_protos.py

proto-breaking: sync ## buf breaking-change check of protos/ against the main branch
	@echo "» buf breaking (against main)"; $(BIN)/buf breaking protos --against '.git#branch=main,subdir=protos'

proto-check: sync
	@$(BIN)/python scripts/gen_protos.py --check

envoy: sync ## regenerate deploy/envoy/*.yaml from deploy/mesh.yaml
	@$(BIN)/hotelctl envoy render

envoy-check: sync
	@$(BIN)/hotelctl envoy check

k8s-render: sync ## regenerate deploy/k8s base and components from deploy/mesh.yaml
	@$(BIN)/python deploy/k8s/generate.py

k8s-check: sync
	@$(BIN)/python deploy/k8s/generate.py --check

lint: sync ## buf lint, ruff, mypy
	@echo "» buf lint"; cd protos && ../$(BIN)/buf lint
	@$(MAKE) --no-print-directory proto-breaking
	@echo "» ruff"; $(BIN)/ruff check . && $(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory typecheck

typecheck: sync
	@echo "» mypy"; $(BIN)/mypy

format: sync
	@$(BIN)/ruff check --fix . && $(BIN)/ruff format .

test: install system-test-deps lint proto-check envoy-check k8s-check ## everything CI runs
	@$(MAKE) --no-print-directory test-unit test-e2e

eval: sync ## dialogue eval: every scenario (dev + frozen), results in services/conversation/eval/results/
	@POSADA_EVAL=1 $(BIN)/pytest -q -s -p no:cacheprovider services/conversation/tests/test_dialogue_eval.py

test-unit: sync
	@echo "» unit and service tests"
	@$(BIN)/pytest -q -p no:cacheprovider libs tools sims services

test-e2e: sync
	@echo "» whole-mesh tests through Envoy"
	@$(BIN)/pytest -q -p no:cacheprovider tests/e2e

run: install ## start the whole mesh (Ctrl-C stops it)
	@$(BIN)/hotelctl up

observe: install system-test-deps ## the whole mesh plus a local Prometheus (rules loaded, URL printed); Ctrl-C stops both
	@$(BIN)/hotelctl up --observe

status: ## health of every service through Envoy
	@$(BIN)/hotelctl status

bench: install ## run every benchmark against a fresh mesh; results in bench/results/
	@$(BIN)/python bench/run_all.py

clean:
	rm -rf .run .mypy_cache .ruff_cache .pytest_cache
