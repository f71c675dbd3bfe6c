# The two commands a person needs: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= out/demo
# The benchmark peers (backtesting.py, vectorbt) live in a venv of their own.
BENCH_VENV ?= .venv-bench

.PHONY: demo test lint typecheck bench bench-peers clean kernel

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# dev: test tools; ray: the sweep test runs on a real local Ray instance.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

# The tax engine's lot kernel, compiled from Cython (pip install -e builds it in place too):
# rebuilt when its .pyx changes. A C compiler and the Python headers are needed.
KERNEL_PYX := src/marginbook/tax/fast/_lotkernel.pyx
KERNEL_SO := $(KERNEL_PYX:.pyx=)$(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

$(KERNEL_SO): $(KERNEL_PYX) | $(STAMP)
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $@

kernel: $(KERNEL_SO)

demo: $(STAMP) $(KERNEL_SO)
	$(BIN)/marginbook demo --dir $(DEMO_DIR)

test: $(STAMP) $(KERNEL_SO)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

$(BENCH_VENV)/bin/python:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet backtesting==0.6.6 vectorbt==1.2.0

bench-peers: $(BENCH_VENV)/bin/python

# Every benchmark, one after the other; each prints its figures (recorded in docs/benchmarks.md).
bench: $(STAMP) $(KERNEL_SO) bench-peers
	$(BIN)/python benchmarks/ledger_import.py
	PYTHONPATH=src:. $(BIN)/python benchmarks/tax_vs_rp2.py
	$(BIN)/python benchmarks/margin_risk_startup.py
	$(BIN)/python benchmarks/paper_replay.py
	MARGINBOOK_BENCH_PYTHON=$(BENCH_VENV)/bin/python $(BIN)/python benchmarks/backtest_vs_peers.py --write-docs
	$(BIN)/python benchmarks/forms_render.py
	$(BIN)/python benchmarks/web_latency.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build dist *.egg-info out test-output
	rm -f src/marginbook/tax/fast/_lotkernel.c src/marginbook/tax/fast/_lotkernel.*.so
