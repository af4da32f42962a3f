"""Where a network can be cut, and which stretches of it repeat.

A *cut* is a layer whose output is the only tensor still needed after it (in
topological order): every path from the input to the output passes through it.
The layers between two cuts form a *segment*: one layer on a plain chain, or a
whole residual block or Inception module. Consecutive segments that are the
same (same kinds, arguments, input shapes and wiring) form a *run*, drawn once
with a count: ResNet-152's 35 identical blocks of its third stage become one
block marked x35.
"""

from __future__ import annotations

from .._values import frozen
from ..analyze import LayerResult, Report

__all__ = ["Run", "Segment", "runs", "segments"]


@frozen
class Segment:
    """Layers ``start .. stop - 1`` of the report (indices in topological order)."""

    start: int
    stop: int
    signature: str


@frozen
class Run:
    """``count`` consecutive copies of ``unit`` (a tuple of segments); count 1 is no repeat."""

    unit: tuple[Segment, ...]
    count: int

    @property
    def start(self) -> int:
        return self.unit[0].start

    def layers(self, report: Report) -> list[LayerResult]:
        return [report.layers[i] for seg in self.unit for i in range(seg.start, seg.stop)]


def _cuts(report: Report) -> list[int]:
    """Indices of the layers after which only their own output is live."""
    index = {r.name: i for i, r in enumerate(report.layers)}
    last_use = [-1] * len(report.layers)
    for i, r in enumerate(report.layers):
        for name in r.inputs:
            last_use[index[name]] = max(last_use[index[name]], i)
    ends_at: dict[int, int] = {}
    for end in last_use:
        if end >= 0:
            ends_at[end] = ends_at.get(end, 0) + 1
    live = 0
    cuts = []
    for i in range(len(report.layers)):
        live -= ends_at.get(i, 0)
        if last_use[i] >= 0:
            live += 1
        if live <= 1:
            cuts.append(i)
    return cuts


def _signature(report: Report, start: int, stop: int) -> str:
    """What must match for two segments to be drawn as one: ops, shapes and wiring, not names."""
    index = {report.layers[i].name: i for i in range(start, stop)}
    parts = []
    for i in range(start, stop):
        r = report.layers[i]
        wiring = tuple(index[n] - start if n in index else -1 for n in r.inputs)
        ins = tuple(str(report[n].shape) for n in r.inputs)
        parts.append(f"{r.node.op!r}|{r.node.train_only}|{wiring}|{ins}|{r.shape}")
    return "\n".join(parts)


def segments(report: Report) -> list[Segment]:
    """The report's layers cut into segments at every cut point."""
    out = []
    start = 0
    for cut in _cuts(report):
        if cut >= start:
            out.append(Segment(start, cut + 1, _signature(report, start, cut + 1)))
            start = cut + 1
    if start < len(report.layers):
        out.append(Segment(start, len(report.layers), _signature(report, start, len(report.layers))))
    return out


def runs(report: Report, *, collapse: bool = True, longest_unit: int = 8) -> list[Run]:
    """Segments grouped into runs of identical units (greedy, the longest coverage first)."""
    segs = segments(report)
    if not collapse:
        return [Run((s,), 1) for s in segs]
    keys = [s.signature for s in segs]
    out: list[Run] = []
    i = 0
    while i < len(segs):
        best_len, best_count = 1, 1
        for length in range(1, longest_unit + 1):
            unit = keys[i:i + length]
            if len(unit) < length:
                break
            count = 1
            while keys[i + count * length:i + (count + 1) * length] == unit:
                count += 1
            if count > 1 and length * count > best_len * best_count:
                best_len, best_count = length, count
        out.append(Run(tuple(segs[i:i + best_len]), best_count))
        i += best_len * best_count
    return out
