"""CSV: one row per layer with exact integers, then a totals row."""

from __future__ import annotations

import csv
import io

from ..analyze import Report
from ..receptive import to_json

__all__ = ["render"]

HEADER = ("name", "kind", "inputs", "output_shape", "neurons", "params", "buffers", "macs",
          "flops", "rf_size", "rf_jump", "rf_start", "warnings")


def _axes(values: list[int | float] | None) -> str:
    return "" if values is None else "x".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def render(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for r in report.layers:
        rf = to_json(r.rf)
        writer.writerow((
            r.name, r.kind, " ".join(r.inputs), "x".join(map(str, r.shape.dims)),
            r.neurons, r.params, r.buffers, r.macs, r.flops,
            _axes(rf["size"] if rf else None), _axes(rf["jump"] if rf else None),
            _axes(rf["start"] if rf else None), " | ".join(r.warnings),
        ))
    t = report.totals
    writer.writerow(("total", "", "", "", t.neurons, t.params, t.buffers, t.macs, t.flops, "", "", "", ""))
    return buffer.getvalue()
