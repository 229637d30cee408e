# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint generated typecheck pytest demo bench screenshots audit-rules clean

# `make demo` installs only what the app needs (gatepass[demo]: the core, the web layer's FastAPI
# adapter, uvicorn, argon2-cffi), plus the driver of the store GATEPASS_STORE names, under a
# stamp of its own: `make test` still installs the developer tools the first time it runs.
comma        := ,
STORE_SCHEME := $(firstword $(subst :, ,$(GATEPASS_STORE)))
DEMO_EXTRAS  := demo$(if $(filter redis rediss redis+cluster unix,$(STORE_SCHEME)),$(comma)redis)$(if $(filter postgresql postgres,$(STORE_SCHEME)),$(comma)postgres)
DEMO_STAMP   := $(VENV)/.installed-$(subst $(comma),-,$(DEMO_EXTRAS))

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: $(STAMP) lint generated typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts

# The blocking modules under _sync/ are generated from their asyncio sources under _async/.
generated: $(STAMP)
	$(BIN)/python scripts/unasync.py --check

typecheck: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(DEMO_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(DEMO_EXTRAS)]'
	@touch $@

# The reference app on http://127.0.0.1:8000 (PORT=... another port; GATEPASS_STORE=redis://...
# or postgresql://... another store; default: SQLite in ./demo-data, which git ignores).
demo: $(DEMO_STAMP)
	GATEPASS_DEMO_DATA='$(CURDIR)/demo-data' $(BIN)/python -m gatepass.demo

# Retake the README's screenshots (docs/images/demo-*.png) with the reference app's browser tests.
screenshots: $(STAMP)
	GATEPASS_SCREENSHOTS=update $(BIN)/python -m pytest tests/demo -q

# The tools page's copy of the audit rules (it may not fetch the JSON); a test fails while stale.
audit-rules: $(STAMP)
	$(BIN)/python -m gatepass.tools.rules_module

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
