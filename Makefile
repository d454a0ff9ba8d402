# uat: every target creates .venv on first use; nothing to install by hand beyond Python 3.11.
PY     ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= default
JOBS   ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
OUT    ?= results
FRESH  ?=# FRESH=1: move stored tables aside first (uat run --fresh), e.g. after an upgrade
STUDIES := width depth activation separation lecture

.PHONY: all venv test test-slow test-all studies report verdict reference bench lint clean $(addprefix study-,$(STUDIES))

all: studies report

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)  ## the fast suite (the README's test command)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)  ## heavy tests only
	$(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

# a static pattern rule: make ignores implicit rules for .PHONY targets
$(addprefix study-,$(STUDIES)): study-%: $(STAMP)  ## e.g. make study-width SCALE=smoke JOBS=2
	$(BIN)/uat run studies/$*.toml --scale $(SCALE) --jobs $(JOBS) --out $(OUT) --yes $(if $(FRESH),--fresh)

studies: $(addprefix study-,$(STUDIES))

report: $(STAMP)
	$(BIN)/uat report --out $(OUT)

verdict: $(STAMP)  ## every theorem's checks and verdict on the stored runs
	$(BIN)/uat verdict --out $(OUT)

reference: $(STAMP)  ## regenerate tests/reference (smoke numbers, tables, verdicts) after an intended change
	$(BIN)/python -m tests.make_reference

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.trainability

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
