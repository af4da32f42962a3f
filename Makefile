# netarith: two commands on a fresh machine.
#   make demo   install netarith into .venv and show AlexNet as published (224 and 227)
#   make test   install what the tests need into .venv and run them (lint, types, tests)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.test: $(VENV)/.core requirements/test.txt
	$(PIP) install -r requirements/test.txt
	touch $@

demo: $(VENV)/.core
	@echo "== AlexNet as published: 224x224 input, the authors' cuda-convnet rounding =="
	$(BIN)/netarith analyze examples/alexnet-paper.net
	@echo
	@echo "== The same network under PyTorch's rounding: 224 gives 54, 227 gives 55 =="
	$(BIN)/netarith analyze "3x224x224 | conv1: conv 96 k11 s4" --convention pytorch
	$(BIN)/netarith analyze examples/alexnet-paper.net --convention pytorch --input 3x227x227

lint: $(VENV)/.test
	$(BIN)/ruff check src tests

typecheck: $(VENV)/.test
	$(BIN)/mypy

pytest: $(VENV)/.test
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
