# netarith: two commands on a fresh machine.
#   make demo   install netarith into .venv and show AlexNet as published (224 and 227)
#   make test   install what the tests need into .venv and run them (lint, types, tests)
#   make fuzz   fuzz every reader for FUZZ_SECONDS each (atheris), then the load test (issue 9)
#   make load   50 clients for 30 s against `netarith serve` on 127.0.0.1 (docs/load-test.md)
#   make bench  netarith side by side with torchinfo, fvcore, ptflops and thop, in .venv-bench;
#               writes docs/benchmarks.md and docs/benchmarks-scaling.svg
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck pytest clean fuzz load bench profile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.test: $(VENV)/.core requirements/test.txt
	$(PIP) install -r requirements/test.txt
	touch $@

$(VENV)/.fuzz: $(VENV)/.test requirements/fuzz.txt
	$(PIP) install -r requirements/fuzz.txt
	touch $@

# The browser tests drive Debian's Chromium; install it only when it is missing (CI runs as root,
# without a terminal). Playwright is told never to fetch a browser of its own.
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(CHROMIUM):
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	  fi; \
	fi

demo: $(VENV)/.core
	@echo "== AlexNet as published: 224x224 input, the authors' cuda-convnet rounding =="
	$(BIN)/netarith analyze examples/alexnet-paper.net
	@echo
	@echo "== The same network under PyTorch's rounding: 224 gives 54, 227 gives 55 =="
	$(BIN)/netarith analyze "3x224x224 | conv1: conv 96 k11 s4" --convention pytorch
	$(BIN)/netarith analyze examples/alexnet-paper.net --convention pytorch --input 3x227x227
	@echo
	@echo "== The paper's own figures checked, and what explains each mismatch =="
	$(BIN)/netarith audit alexnet-paper

lint: $(VENV)/.test
	$(BIN)/ruff check src tests tests_torchvision fuzz bench

typecheck: $(VENV)/.test
	$(BIN)/mypy

pytest: $(VENV)/.test $(CHROMIUM)
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Bounded: FUZZ_SECONDS per target (6 targets), then the 30 s load test; results in docs/.
FUZZ_SECONDS ?= 60
fuzz: $(VENV)/.fuzz
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS) --out docs/fuzz-results.md
	$(BIN)/python fuzz/load.py --out docs/load-test.md

load: $(VENV)/.fuzz
	$(BIN)/python fuzz/load.py --out docs/load-test.md

# The optional torchvision tier: every torchvision classification model against its
# metadata and a real forward pass, and the counting tools on some of them. torchvision
# needs torch 2.14.1 (both on this machine's disk, about 5.5 GB), so it has its own venv.
# Not part of `make test` nor of CI. TV_VENV=/path/to/venv reuses an existing one.
TV_VENV ?= .venv-tv
TV_BIN  := $(TV_VENV)/bin

$(TV_BIN)/python:
	$(PYTHON) -m venv $(TV_VENV)

$(TV_VENV)/.tv: $(TV_BIN)/python requirements/torchvision.txt
	$(TV_BIN)/python -m pip --disable-pip-version-check -q install -r requirements/torchvision.txt
	touch $@

.PHONY: test-torchvision
test-torchvision: $(TV_VENV)/.tv
	PYTHONPATH=src $(TV_BIN)/python -m pytest -p no:cacheprovider -o addopts="" -q -rs tests_torchvision
# The benchmarks run in a venv of their own: torch 2.14.1 + torchvision 0.29.1 and the peers,
# pinned in requirements/bench.txt. TORCH_WHEELS (this machine's wheels) is searched before the
# index, so the multi-GB torch comes from disk when it is there; the pins forbid any other torch.
BENCH_VENV   := .venv-bench
BENCH_BIN    := $(BENCH_VENV)/bin
BENCH_PIP    := $(BENCH_BIN)/python -m pip --disable-pip-version-check -q
TORCH_WHEELS ?= /opt/pypi-more/files

$(BENCH_BIN)/python:
	$(PYTHON) -m venv $(BENCH_VENV)

$(BENCH_VENV)/.bench: $(BENCH_BIN)/python requirements/bench.txt pyproject.toml
	$(BENCH_PIP) install $(if $(wildcard $(TORCH_WHEELS)),--find-links $(TORCH_WHEELS)) -r requirements/bench.txt
	$(BENCH_PIP) install --no-deps -e .
	touch $@

# BENCH_ARGS: more options for bench/run.py, e.g. --quick, or --torch-src DIR to measure
# netarith.from_torch from a branch where it is not merged yet.
BENCH_ARGS ?=

bench: $(BENCH_VENV)/.bench
	$(BENCH_BIN)/python bench/run.py --out docs/benchmarks.md $(BENCH_ARGS)

# Where the time goes: pyinstrument over the 100,000-layer chain and the alexnet-paper audit.
profile: $(BENCH_VENV)/.bench
	$(BENCH_BIN)/python bench/hotspots.py

# The venvs made here (not a TV_VENV given from elsewhere), the tools' caches, the fuzzers' corpora.
clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .fuzz
