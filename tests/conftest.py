"""Shared fixtures. Tests that need PyTorch use the ``torch`` fixture: in CI (CI=true)
a missing torch is a failure, not a skip, so a broken install cannot pass silently."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def _import_torch() -> ModuleType:
    if os.environ.get("CI"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    return torch


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    mod = _import_torch()
    mod.manual_seed(0)
    return mod


@pytest.fixture
def quiet() -> object:
    """Silence framework warnings (PyTorch warns about 'same' padding copies)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite the golden files (tests/golden) from the current output")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten: --regen-golden or NETARITH_REGEN_GOLDEN=1."""
    return bool(request.config.getoption("--regen-golden")) or os.environ.get("NETARITH_REGEN_GOLDEN") == "1"
