"""The plain-text table: a row per layer, a totals row, then the warnings."""

from __future__ import annotations

from ..analyze import Report
from .common import COLUMNS, row, summary_lines

__all__ = ["render"]

_RIGHT = {3, 4, 5, 6}  # numeric columns are right-aligned


def render(report: Report) -> str:
    inputs = ", ".join(str(s) for s in report.inputs)
    head = f"{report.model}: input {inputs}, convention {report.convention.name}"
    rows = [COLUMNS] + [row(r) for r in report.layers]
    t = report.totals
    rows.append(("total", "", "", f"{t.neurons:,}", f"{t.params:,}", f"{t.macs:,}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [c.rjust(w) if i in _RIGHT else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    out = [head, "", line(rows[0]), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows[1:-1]]
    out += [line(tuple("-" * w for w in widths)), line(rows[-1]), ""]
    out += summary_lines(report)
    warnings = report.warnings
    if warnings:
        out += ["", "warnings:"]
        out += [f"  {name}: {text}" for name, text in warnings]
    return "\n".join(out) + "\n"
