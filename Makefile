# 无忧服务台 — everyday commands. `make run` to try it, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# make test's pytest-xdist processes: one per core (`make test TEST_WORKERS=0` runs the suite in one process)
TEST_WORKERS ?= auto

.PHONY: install install-dev run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed            ## install the desk into .venv

install-dev: $(VENV)/.installed-dev    ## install the desk and the test tools

run: install                           ## serve on http://127.0.0.1:8000 (SQLite, in-process store, demo data)
	$(BIN)/wuyou db upgrade
	WUYOU_DEMO_DIR=examples $(BIN)/wuyou serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests docs bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint                             ## lint, type-check, import contracts, then the whole suite
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

bench: install-dev                     ## knowledge-base matcher quality and speed against baselines
	$(BIN)/python bench/kb_quality.py
	$(BIN)/python bench/kb_speed.py
	$(BIN)/python bench/kb_learning.py
	$(BIN)/python bench/surge.py

clean:
	rm -rf $(VENV) *.db *.db-shm *.db-wal .mypy_cache .ruff_cache .pytest_cache
