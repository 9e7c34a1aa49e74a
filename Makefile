# `make test` and `make demo` set everything up from a fresh clone.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
STAMP  := $(VENV)/.installed

.PHONY: test demo lint bench browser fuzz clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The HTML report is tested in a real headless browser: Debian's chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the report's browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else \
	    echo "the report's browser test needs Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

test: lint browser
	$(BIN)/pytest -n 2 --dist loadgroup -q

# The fuzz tests of `make test` (40 examples each, the same every run) for longer: 2,000
# mutated snapshots, 2,000 mutated specs and 2,000 mutated policy documents on a new
# random seed (about 3 minutes on 2 cores); prints inputs, valid outputs, clean errors.
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	IVS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -s -p no:cacheprovider tests/test_fuzz.py

demo: $(STAMP)
	$(BIN)/ivs demo --out demo-out

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python -m bench.$$(basename $$b .py) || exit 1; done

clean:
	rm -rf $(VENV) demo-out .mypy_cache .ruff_cache .pytest_cache
