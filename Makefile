PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint fmt bench bench-quick bench-verify clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo's checkpoint signing key and checkpoints: a real deployment keeps the private key
# off the database host (docs/tamper-evidence.md).
DEMO_SIGNING := var/demo-signing

run: install
	$(BIN)/caserecord db init
	$(BIN)/caserecord demo
	@test -f $(DEMO_SIGNING)/signing.pem || { mkdir -p $(DEMO_SIGNING)/checkpoints && \
		$(BIN)/caserecord chain keygen --private $(DEMO_SIGNING)/signing.pem --public $(DEMO_SIGNING)/signing.pub; }
	$(BIN)/caserecord chain checkpoint --key $(DEMO_SIGNING)/signing.pem --out $(DEMO_SIGNING)/checkpoints/demo.json
	@echo "web console: http://$(HOST):$(PORT)/console (sign in with one of the tokens above)"
	@echo "API docs:    http://$(HOST):$(PORT)/docs"
	CASERECORD_CHECKPOINT_DIR=$(DEMO_SIGNING)/checkpoints CASERECORD_CHECKPOINT_PUBLIC_KEY=$(DEMO_SIGNING)/signing.pub \
		$(BIN)/caserecord serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

test: lint
	@# Three workers on two cores: much of a test waits on a database, a subprocess or a browser.
	$(BIN)/pytest -q -n 3 --dist loadfile

bench: install
	$(BIN)/python benchmarks/run.py --docs

bench-quick: install
	$(BIN)/python benchmarks/run.py --quick

# verify --all on a million events (SQLite): the store is written once (5-20 minutes) and
# kept under var/bench/; docs/benchmarks.md says how to read the figures.
bench-verify: install
	CASERECORD_BENCH_VERIFY_EVENTS=1000000 $(BIN)/python benchmarks/run.py --only verify \
		--stores sqlite --output benchmarks/results/verify-1m.json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
