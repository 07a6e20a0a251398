# `make run`: set up and serve the assistant on the bundled knowledge (http://127.0.0.1:7860).
# `make test`: set up, lint (ruff, mypy) and run the whole test suite (what CI runs).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
KNOWLEDGE ?= knowledge/demo

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-dev browser-deps ingest lint lock bench bench-scale load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt holds the versions the tests last passed with, so a new release upstream cannot
# change what a fresh machine installs.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

# The CPU build of torch first: otherwise sentence-transformers pulls a multi-GB CUDA build.
$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[st,llm,dev]'
	touch $@ $(VENV)/.installed

# Browser tests use Debian's chromium (never a downloaded browser) and need CJK fonts, or Chinese is tofu.
browser-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk; \
	fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

ingest: install
	$(BIN)/banshi ingest $(KNOWLEDGE) --data-dir $(DATA_DIR)

run: ingest
	$(BIN)/banshi serve --data-dir $(DATA_DIR)

# The suite starts its own Chroma server; the database tests also run on a real PostgreSQL, started here when
# we are root on Debian (.ci/postgres.sh), or the one BANSHI_TEST_DATABASE_URL names.
test: install-dev browser-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	@if [ -z "$$BANSHI_TEST_DATABASE_URL" ] && [ "$$(id -u)" = 0 ] && url=$$(bash .ci/postgres.sh); then \
		export BANSHI_TEST_DATABASE_URL="$$url"; echo "the database tests also run on PostgreSQL"; \
	elif [ -z "$$BANSHI_TEST_DATABASE_URL" ]; then \
		echo "no PostgreSQL here (starting one needs root): the database tests run on SQLite only"; \
	fi; $(BIN)/pytest

# After upgrading (.venv/bin/pip install -U -e '.[st,llm,dev]') and a green make test: record the versions.
lock:
	{ sed -n 1,2p constraints.txt; $(BIN)/pip freeze | grep -v -i -E '^(-e |banshi|torch)'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m evals.bench_ingest

# Ingest, latency, memory and answers/s at 2,302, 10,000 and 20,000 guides of a synthetic province (evals/province.py);
# roughly half an hour on a quiet 2-core machine. Options: python -m evals.bench_scale --help.
bench-scale: install
	$(BIN)/python -m evals.bench_scale

load: install
	$(BIN)/python -m evals.load_handoff

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .ruff_cache .mypy_cache test-artifacts
