# One entry point. Every target bootstraps its own virtualenv on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(VENV)
# llama.cpp compiles from source on first install; use every core the machine has.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
# A cold llama.cpp build holds uv's cache lock for several minutes; uv gives up after 300 s.
export UV_LOCK_TIMEOUT ?= 1800

.PHONY: run test check lint types pytest bench bench-pii bench-injection bench-guard bench-audit bench-retrieval bench-keyword-choice clean

run: $(STAMP)  ## Run mamori on its embedded defaults (SQLite, embedded engine, 127.0.0.1:8080)
	$(VENV)/bin/mamori serve

test: check  ## The whole suite: lint, types, tests (installs Chromium if missing)

check: $(STAMP)
	scripts/ensure-system-deps
	$(MAKE) --no-print-directory lint types pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

types: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## Benchmarks: print figures and ratios against a reference in the same run
	$(VENV)/bin/python bench/gateway_overhead.py

bench-pii: $(STAMP)  ## PII detectors: exact-span P/R/F1 per kind and throughput on the dev set
	$(VENV)/bin/python bench/pii.py

bench-injection: $(STAMP)  ## Injection screening: TPR/FPR by source (dev set, BIPIA, AISI), throughput
	$(VENV)/bin/python bench/injection.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras
	@touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache

bench-guard: $(STAMP)  ## What the guard adds to a 2,000-character turn
	$(VENV)/bin/python bench/guard_latency.py

bench-audit: $(STAMP)  ## Audit trail: chained appends (1 and 4 writers) and verify_chain, SQLite and PostgreSQL
	$(VENV)/bin/python bench/audit.py

bench-retrieval: $(STAMP)  ## Knowledge bases: JSQuAD/wikinews quality, PDF ingestion pages/s, latency at 100k chunks, memory
	$(VENV)/bin/python bench/retrieval.py

bench-keyword-choice: $(STAMP)  ## How Japanese is tokenised for BM25: each candidate analysis measured
	$(VENV)/bin/python bench/keyword_choice.py
