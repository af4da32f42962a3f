"""The optional torchvision tier (``make test-torchvision``): needs torch 2.14.1 and
torchvision 0.29.1, which cannot live beside the torch of ``make test``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))  # for tests.counting_tools

META = ROOT / "tests" / "data" / "torchvision_meta.csv"


def rows() -> list[dict[str, str]]:
    with META.open() as f:
        return list(csv.DictReader(f))
