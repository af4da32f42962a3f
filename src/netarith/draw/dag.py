"""The ``graph`` diagram: the layers as a DAG, top to bottom, each edge labelled with its shape.

Layers are placed in ranks (the longest path from an input), ordered within a rank
by the mean position of their inputs; an edge that skips ranks bows to the side
so that it does not run through the layers between.
"""

from __future__ import annotations

from ..analyze import LayerResult, Report
from ..notation.printer import format_op
from .svgkit import Canvas, fmt, text_width

__all__ = ["render_graph"]

_ROW = 66.0
_NODE_H = 34.0
_GAP = 46.0
_MAX_TEXT = 38  # characters of a node's second line before it is cut
_CSS = (
    ".node rect{fill:#eef3fa;stroke:#3b5b8a;stroke-width:1}"
    ".node.weighted rect{fill:#dbe9d8;stroke:#3d6b35}"
    ".node.merge rect{fill:#f4f0c9;stroke:#8a7a2b}"
    ".edge{stroke:#666;stroke-width:1;fill:none}.shape{fill:#444}.kind{fill:#333}.name{fill:#111;font-weight:bold}"
)


def _cut(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ranks(report: Report) -> dict[str, int]:
    rank: dict[str, int] = {}
    for r in report.layers:
        rank[r.name] = 1 + max((rank[n] for n in r.inputs), default=-1)
    return rank


def _order(report: Report, rank: dict[str, int]) -> dict[str, float]:
    """Position within the rank: inputs' mean position, earliest written first on ties."""
    pos: dict[str, float] = {}
    by_rank: dict[int, list[LayerResult]] = {}
    for r in report.layers:
        by_rank.setdefault(rank[r.name], []).append(r)
    for k in sorted(by_rank):
        layers = by_rank[k]
        wanted = [
            (sum(pos[n] for n in r.inputs) / len(r.inputs) if r.inputs else float(i), i, r.name)
            for i, r in enumerate(layers)
        ]
        wanted.sort()
        taken: list[float] = []
        for want, _, name in wanted:
            slot = round(want)
            while slot in taken:
                slot += 1
            taken.append(slot)
            pos[name] = slot
    low = min(pos.values(), default=0)
    return {name: p - low for name, p in pos.items()}


def render_graph(report: Report) -> str:
    """The DAG as SVG (see the module docstring)."""
    rank = _ranks(report)
    pos = _order(report, rank)
    labels = {r.name: (_cut(r.name, 40), _cut(format_op(r.node.op))) for r in report.layers}
    width = max((max(text_width(a, 11), text_width(b, 10)) for a, b in labels.values()), default=80) + 20
    col = width + _GAP
    c = Canvas()
    c.raw('<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
          'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker></defs>')
    c.text(10, 18, report.model, 15, "start", class_="name")
    c.text(10, 34, f"input {', '.join(map(str, report.inputs))} | convention {report.convention.name}",
           10, "start", class_="kind")

    def centre(name: str) -> tuple[float, float]:
        return 20 + pos[name] * col + width / 2, 56 + rank[name] * _ROW

    for r in report.layers:
        tx, ty = centre(r.name)
        for src in r.inputs:
            sx, sy = centre(src)
            y0, y1 = sy + _NODE_H, ty
            if rank[r.name] - rank[src] == 1:
                d = f"M{fmt(sx)},{fmt(y0)} C{fmt(sx)},{fmt(y0 + 18)} {fmt(tx)},{fmt(y1 - 18)} {fmt(tx)},{fmt(y1)}"
                lx, ly = (sx + tx) / 2 + 6, (y0 + y1) / 2 + 4
            else:  # skip ranks: bow out to the right of the column
                bx = max(sx, tx) + width / 2 + _GAP / 2
                d = (f"M{fmt(sx + width / 2)},{fmt(sy + _NODE_H / 2)} C{fmt(bx)},{fmt(sy + _NODE_H / 2)} "
                     f"{fmt(bx)},{fmt(ty + _NODE_H / 2)} {fmt(tx + width / 2)},{fmt(ty + _NODE_H / 2)}")
                lx, ly = bx - 2, (sy + ty) / 2 + _NODE_H / 2
            c.path(d, class_="edge", marker_end="url(#arrow)")
            c.text(lx, ly, str(report[src].shape), 9, "start", class_="shape")
    outputs = {n.name for n in report.graph.outputs}
    for r in report.layers:
        x, y = centre(r.name)
        kind = "weighted" if r.weighted else "merge" if len(r.inputs) > 1 else ""
        c.open("g", class_=f"node layer {kind}".strip(), data_layer=r.name)
        c.title(f"{r.name}: {format_op(r.node.op)}\noutput {r.shape}, {r.params:,} params, {r.macs:,} MACs")
        c.rect(x - width / 2, y, width, _NODE_H, rx="5")
        name, op = labels[r.name]
        c.text(x, y + 14, name, 11, "middle", class_="name")
        c.text(x, y + 27, op, 10, "middle", class_="kind")
        c.close("g")
        if r.name in outputs:
            c.text(x, y + _NODE_H + 14, str(r.shape), 9, "middle", class_="shape")
    return c.svg(title=f"{report.model}: graph", style=_CSS)
