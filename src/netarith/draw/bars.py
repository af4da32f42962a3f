"""Per-layer bars: neurons, parameters and MACs side by side, one row per layer.

Values come from the Report. ``log`` draws bar lengths as log10(1 + value), for
networks whose layers differ by orders of magnitude. A quantity a layer could
not count is written "not counted", never drawn as zero.
"""

from __future__ import annotations

import math

from ..analyze import Report
from ..report.common import NOT_COUNTED, human
from .svgkit import Canvas, text_width

__all__ = ["render_chart"]

_ROW = 16.0
_BAR = 11.0
_PANEL = 230.0
_QUANTITIES = (("neurons", "neurons", "#4c78a8"), ("params", "params", "#59a14f"), ("macs", "MACs", "#e15759"))
_CSS = ".label{fill:#222}.value{fill:#333}.head{fill:#111;font-weight:bold}.axis{stroke:#bbb;stroke-width:1}"


def _length(value: int, top: int, log: bool) -> float:
    if value <= 0 or top <= 0:
        return 0.0
    if log:
        return _PANEL * math.log10(1 + value) / math.log10(1 + top)
    return _PANEL * value / top


def render_chart(report: Report, *, log: bool = False) -> str:
    """The chart as SVG (see the module docstring)."""
    layers = report.layers
    names = [f"{r.name} ({r.kind})" for r in layers]
    left = max((text_width(n, 10) for n in names), default=60) + 16
    tops = {q: max((getattr(r, q) for r in layers), default=0) for q, _, _ in _QUANTITIES}
    c = Canvas()
    c.text(10, 18, f"{report.model}: per-layer neurons, params, MACs", 14, "start", class_="head")
    c.text(10, 34, f"input {', '.join(map(str, report.inputs))} | convention {report.convention.name} | "
           f"{'log10(1 + value)' if log else 'linear'} scale", 10, "start", class_="value")
    top_y = 64.0
    for k, (quantity, title, _) in enumerate(_QUANTITIES):
        x0 = left + k * (_PANEL + 70)
        c.text(x0, top_y - 10, f"{title} (max {human(tops[quantity])})", 11, "start", class_="head")
        c.line(x0, top_y - 4, x0, top_y + len(layers) * _ROW, class_="axis")
    for i, r in enumerate(layers):
        y = top_y + i * _ROW
        c.open("g", class_="layer", data_layer=r.name)
        c.title(f"{r.name}: {r.neurons:,} neurons, {r.params:,} params, {r.macs:,} MACs")
        c.text(left - 8, y + _BAR - 1, names[i], 10, "end", class_="label")
        for k, (quantity, _, colour) in enumerate(_QUANTITIES):
            x0 = left + k * (_PANEL + 70)
            value = getattr(r, quantity)
            if quantity in r.uncounted:
                c.text(x0 + 4, y + _BAR - 1, NOT_COUNTED, 9, "start", class_="value", font_style="italic")
                continue
            length = _length(value, tops[quantity], log)
            if length > 0:
                c.rect(x0, y + 1, max(length, 1.0), _BAR, fill=colour)
            if value:
                c.text(x0 + length + 4, y + _BAR - 1, human(value), 9, "start", class_="value")
        c.close("g")
    return c.svg(title=f"{report.model}: chart", style=_CSS)
