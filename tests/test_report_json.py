"""The JSON report is written layer by layer (report/json.py); these tests hold it to the
contract: it parses back to ``Report.to_dict()``, and it is laid out as
``json.dumps(..., indent=2)`` with lists of plain numbers on one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netarith import analyze
from netarith.analyze import Report
from netarith.report.json import render
from netarith.zoo import registry

ROOT = Path(__file__).resolve().parents[1]
EXTRA = [
    "a: input 3x8x8\nb: input 3x8x8\nadd a b\nupsample 1.5\nconv 4 k3 s2",  # two inputs, fractional fields
    "3x9x9 | conv 4 k3 s2 | maxpool k3 s2 ceil",  # warnings
    "16000 | linear 10",  # a vector: no receptive field
    str(ROOT / "tests" / "data" / "every-kind.net"),  # an opaque layer: not counted
    *(str(p) for p in sorted((ROOT / "examples").glob("*.net"))),
]

# The reference layout, independent of report/json.py: json's own indented text, then each
# innermost list of numbers joined onto one line.
_NUMBER_LIST = re.compile(r"\[\s*((?:-?[\d.e+-]+,\s*)*-?[\d.e+-]+)\s*\]")


def reference(data: object, indent: int) -> str:
    text = json.dumps(data, indent=indent)
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(p.strip() for p in m.group(1).split(",")) + "]", text) + "\n"


def _reports() -> list[tuple[str, Report]]:
    return [(s, analyze(s)) for s in [*registry.names(), *EXTRA]]


REPORTS = _reports()


@pytest.mark.parametrize(("source", "report"), REPORTS, ids=[s.rsplit("/", 1)[-1][:40] for s, _ in REPORTS])
def test_render_is_the_contract_laid_out(source: str, report: Report) -> None:
    data = report.to_dict()
    for indent in (2, 4):
        text = render(report, indent=indent)
        assert json.loads(text) == data
        assert text == reference(data, indent)
    assert render(report, indent=None) == json.dumps(data) + "\n"


def test_the_cases_above_cover_every_shape_of_value() -> None:
    layers = [layer for _, report in REPORTS for layer in report.to_dict()["layers"]]
    assert any(layer["receptive_field"] is None for layer in layers)
    assert any(isinstance(v, float) and not v.is_integer()
               for layer in layers if layer["receptive_field"] for v in layer["receptive_field"]["jump"])
    assert any(layer["warnings"] for layer in layers)
    assert any("not_counted" in layer for layer in layers)
    assert any(len(layer["inputs"]) > 1 for layer in layers)
    assert any(isinstance(report.to_dict()["input"][0], list) for _, report in REPORTS)
