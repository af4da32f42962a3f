"""The JSON report: exactly the contract of design.md (integers stay integers)."""

from __future__ import annotations

import json
import re

from ..analyze import Report

__all__ = ["render"]

# Lists of plain numbers (shapes, receptive-field axes) stay on one line.
_NUMBER_LIST = re.compile(r"\[\s*((?:-?[\d.e+-]+,\s*)*-?[\d.e+-]+)\s*\]")


def _one_line(match: re.Match[str]) -> str:
    return "[" + ", ".join(part.strip() for part in match.group(1).split(",")) + "]"


def render(report: Report, indent: int | None = 2) -> str:
    text = json.dumps(report.to_dict(), indent=indent)
    if indent is not None:
        text = _NUMBER_LIST.sub(_one_line, text)
    return text + "\n"
