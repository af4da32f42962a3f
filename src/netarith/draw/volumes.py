"""The ``volumes`` diagram: each layer a 3D box, in the style of AlexNet's Figure 2.

What is drawn (read from the Report, never recomputed):

* a box for the input, every weighted layer (conv, convT, linear), every merge
  (add, concat) and any output the others do not show: channels run
  horizontally, height vertically, width obliquely, each labelled with its size;
  layers that keep the shape (relu, norm, dropout) are not boxes, and layers that
  change it without weights (pooling, flatten) are written on the connector;
* sizes on a log scale when they span orders of magnitude (224 down to 1, 3 up
  to 4096), else linear;
* the kernel of a convolution as a small box on the face of the volume it
  reads, with lines to the neuron it computes;
* grouped convolutions with 2 to 4 groups as parallel streams (the two GPUs of
  AlexNet), lines only within a stream where the groups keep them apart;
* the branches of a block (residual, Inception) side by side in lanes;
* repeated blocks drawn once, framed, with their count (ResNet-152's x35).
"""

from __future__ import annotations

import math

from .._values import field, frozen, mutable
from ..analyze import LayerResult, Report
from ..notation.printer import format_op
from ..ops.input import Input
from .blocks import Run, runs
from .svgkit import Canvas, fmt, text_width

__all__ = ["render_volumes"]

_MAX_STREAMS = 4
#: families of hidden layers not worth a note when they keep the shape (relu, bn, dropout)
_QUIET = frozenset({"activation", "norm", "reshape", "input"})
_STREAM_GAP = 18.0
_NAME_SIZE = 10.0
_LABEL_SIZE = 10.0
_SLANT = 0.55  # the oblique (width) axis: dx, dy per unit of depth
_COLORS = {"input": "#e8eef7", "conv": "#dbe9d8", "convT": "#f3e2cc", "linear": "#e6dcef",
           "merge": "#f4f0c9", "other": "#eeeeee"}
_CSS = (
    ".box{stroke:#333;stroke-width:1}.face{stroke:#333;stroke-width:1}"
    ".kern{fill:#c0392b;fill-opacity:.35;stroke:#c0392b;stroke-width:1}"
    ".proj{stroke:#c0392b;stroke-width:.7;fill:none}"
    ".edge{stroke:#555;stroke-width:1;fill:none}"
    ".name{fill:#222}.size{fill:#333}.note{fill:#555;font-style:italic}"
    ".frame{fill:none;stroke:#7a7a7a;stroke-dasharray:5 4}.count{fill:#7a1f1f;font-weight:bold}"
)


# ---------------------------------------------------------------- scales


@frozen(slots=False)
class _Scale:
    """Pixels for a size, proportional to ``high`` at the largest size.

    Linear while the sizes span at most a factor 16; a square root up to a factor
    256 (AlexNet's 224 to 13); a logarithm beyond, when they span orders of
    magnitude (3 to 4096 channels, 224 to 1 pixels).
    """

    low: float
    high: float
    smallest: int
    largest: int

    @property
    def kind(self) -> str:
        ratio = self.largest / max(self.smallest, 1)
        return "linear" if ratio <= 16 else "sqrt" if ratio <= 256 else "log"

    def __call__(self, value: int) -> float:
        kind = self.kind
        if kind == "log":  # from 1, so that equal ratios give equal steps
            t = math.log(value) / math.log(self.largest)
            return self.low + (self.high - self.low) * t
        t = value / self.largest
        return max(self.low, self.high * (math.sqrt(t) if kind == "sqrt" else t))


def _scale(values: list[int], low: float, high: float) -> _Scale:
    return _Scale(low, high, min(values, default=1), max(values, default=1))


# ---------------------------------------------------------------- what is drawn


def _is_merge(r: LayerResult) -> bool:
    return len(r.inputs) > 1


def _drawn(report: Report) -> set[str]:
    used = {n for r in report.layers for n in r.inputs}
    shown = {r.name for r in report.layers
             if isinstance(r.node.op, Input) or r.weighted or _is_merge(r)}
    for r in report.layers:  # outputs that nothing else shows
        if r.name not in used and r.name not in shown:
            shown.add(r.name)
    return shown


def _color(r: LayerResult) -> str:
    if isinstance(r.node.op, Input):
        return _COLORS["input"]
    if _is_merge(r):
        return _COLORS["merge"]
    if r.kind in ("conv", "convT", "linear"):
        return _COLORS[r.kind]
    return _COLORS["other"]


def _groups(r: LayerResult) -> int:
    g = getattr(r.node.op, "groups", 1)
    return g if isinstance(g, int) else 1


def _kernel(r: LayerResult, rank: int) -> tuple[int, ...] | None:
    k = getattr(r.node.op, "kernel", None)
    if r.kind not in ("conv", "convT") or not isinstance(k, tuple) or rank == 0:
        return None
    return k * rank if len(k) == 1 else k


# ---------------------------------------------------------------- the plan


@mutable(slots=False)
class _Box:
    r: LayerResult
    run: int
    col: int = 0
    lane: int = 0
    streams: int = 1
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    note: str = ""
    # geometry of stream 0's front face; streams stack downwards
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    depth: float = 0.0

    @property
    def dx(self) -> float:
        return self.depth * _SLANT

    @property
    def dy(self) -> float:
        return self.depth * _SLANT

    slot: float = 0.0  # vertical room per stream, the same for every box of a lane

    def stream_y(self, i: int) -> float:
        return self.y + i * self.slot

    @property
    def own(self) -> float:
        """One stream's height: front face, oblique top, size label below."""
        return self.h + self.dy + _STREAM_GAP

    @property
    def width(self) -> float:
        return self.w + self.dx


class _Plan:
    """Which boxes, where, and what connects them."""

    def __init__(self, report: Report, collapse: bool) -> None:
        self.report = report
        self.runs: list[Run] = runs(report, collapse=collapse)
        self.drawn = _drawn(report)
        self.rep: dict[str, str] = {}
        self.run_of: dict[str, int] = {}
        for k, run in enumerate(self.runs):
            first = run.layers(report)
            size = len(first)
            start = run.start
            for copy in range(run.count):
                for j in range(size):
                    name = report.layers[start + copy * size + j].name
                    self.rep[name] = first[j].name
                    self.run_of[name] = k
        self._reach: dict[str, dict[str, tuple[str, ...]]] = {}
        self.boxes: dict[str, _Box] = {}
        for k, run in enumerate(self.runs):
            for r in run.layers(report):
                if r.name in self.drawn:
                    self.boxes[r.name] = _Box(r, k)
        self.order = {name: i for i, name in enumerate(self.boxes)}
        for box in self.boxes.values():
            box.sources = self._sources(box.r)
            box.note = self._note(box)
        self.readers: dict[str, list[_Box]] = {}
        self.by_run: dict[int, list[_Box]] = {}
        for box in self.boxes.values():
            self.by_run.setdefault(box.run, []).append(box)
            for src in box.sources:
                self.readers.setdefault(src, []).append(box)
        for box in self.boxes.values():
            box.streams = self._streams(box)
        for k in range(len(self.runs)):
            self._columns(k)

    def _reach_from(self, name: str) -> dict[str, tuple[str, ...]]:
        """The drawn layers feeding ``name``'s output, each with the hidden layers passed."""
        cached = self._reach.get(name)
        if cached is not None:
            return cached
        found: dict[str, tuple[str, ...]] = {}
        if name in self.drawn:
            found[self.rep[name]] = ()
        else:
            for src in self.report[name].inputs:
                for drawn, path in self._reach_from(src).items():
                    found.setdefault(drawn, (*path, name))
        self._reach[name] = found
        return found

    def _sources(self, r: LayerResult) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for src in r.inputs:
            for drawn, path in self._reach_from(src).items():
                # a collapsed run's loop back to its own start is not an edge
                if drawn != r.name and self.order.get(drawn, -1) < self.order[r.name]:
                    found.setdefault(drawn, path)
        return found

    def _note(self, box: _Box) -> str:
        """The hidden layers on the way in that change the shape (pooling, flatten)."""
        if not box.sources:
            return ""
        path = next(iter(box.sources.values()))
        shown = []
        for name in path:
            r = self.report[name]
            changes = bool(r.inputs) and r.shape != self.report[r.inputs[0]].shape
            if changes or type(r.node.op).family not in _QUIET:
                shown.append(format_op(r.node.op))
        return ", ".join(shown[:2]) + (", ..." if len(shown) > 2 else "")

    def _streams(self, box: _Box) -> int:
        r = box.r
        if r.shape.rank == 0:
            return 1
        own = _groups(r)
        if 2 <= own <= _MAX_STREAMS:
            return own
        readers = self.readers.get(r.name, [])
        gs = {_groups(b.r) for b in readers}
        if readers and len(gs) == 1:
            g = gs.pop()
            if 2 <= g <= _MAX_STREAMS and r.shape.channels % g == 0:
                return g
        return 1

    def _columns(self, k: int) -> None:
        """Columns by longest path inside the run; lanes so that branches sit side by side."""
        boxes = self.by_run.get(k, [])
        taken: set[tuple[int, int]] = set()
        for b in boxes:
            inside = [self.boxes[s] for s in b.sources if s in self.boxes and self.boxes[s].run == k]
            b.col = 1 + max((s.col for s in inside), default=-1)
            wanted = sorted({s.lane for s in inside}) or [0]
            lane = next((lane for lane in wanted if (b.col, lane) not in taken), None)
            if lane is None:
                lane = 0
                while (b.col, lane) in taken:
                    lane += 1
            if not inside and (b.col, lane) in taken:
                lane = max((ln for _, ln in taken), default=-1) + 1
            b.lane = lane
            taken.add((b.col, lane))


# ---------------------------------------------------------------- layout


@mutable(slots=False)
class _RunBox:
    """The rectangle one run occupies, and its columns' widths, lanes' heights."""

    index: int
    cols: list[float]
    gaps: list[float]
    lanes: list[float]
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        return sum(self.cols) + sum(self.gaps)

    @property
    def height(self) -> float:
        return sum(self.lanes)


_TOP = 34.0     # room above a lane for names and skip arcs
_BOTTOM = 8.0


def _size_boxes(plan: _Plan) -> None:
    report = plan.report
    spatial = [d for b in plan.boxes.values() for d in b.r.shape.spatial[-2:]]
    channels = [b.r.shape.channels // b.streams for b in plan.boxes.values() if b.r.shape.rank > 0]
    vectors = [b.r.shape.channels for b in plan.boxes.values() if b.r.shape.rank == 0]
    face = _scale(spatial, 8, 130)
    chan = _scale(channels, 4, 44)
    vec = _scale(vectors, 40, 150)
    del report
    for b in plan.boxes.values():
        s = b.r.shape
        if s.rank == 0:
            b.w, b.h, b.depth = 9.0, vec(s.channels), 8.0
        elif s.rank == 1:
            b.w, b.h, b.depth = chan(s.channels // b.streams), face(s.spatial[0]), 6.0
        else:
            b.w = chan(s.channels // b.streams)
            b.h, b.depth = face(s.spatial[-2]), face(s.spatial[-1])


def _note_width(b: _Box) -> float:
    return text_width(b.note, _LABEL_SIZE) + 12 if b.note else 0.0


def _layout_runs(plan: _Plan, max_width: float) -> list[_RunBox]:
    out = []
    for k, _run in enumerate(plan.runs):
        boxes = plan.by_run.get(k, [])
        if not boxes:
            continue
        ncols = 1 + max(b.col for b in boxes)
        nlanes = 1 + max(b.lane for b in boxes)
        cols = [0.0] * ncols
        gaps = [0.0] * ncols
        lanes = [0.0] * nlanes
        slots = [0.0] * nlanes
        streams = [1] * nlanes
        for b in boxes:
            name_w = text_width(b.r.name, _NAME_SIZE)
            cols[b.col] = max(cols[b.col], b.width + 30, name_w + 6)
            gaps[b.col] = max(gaps[b.col], 34.0, _note_width(b))
            slots[b.lane] = max(slots[b.lane], b.own)
            streams[b.lane] = max(streams[b.lane], b.streams)
        for b in boxes:
            b.slot = slots[b.lane]
        for lane in range(nlanes):
            lanes[lane] = _TOP + streams[lane] * slots[lane] + _BOTTOM
        out.append(_RunBox(k, cols, gaps, lanes))
    # flow runs into rows like words into lines
    x0, y, x, row_h = 10.0, 44.0, 10.0, 0.0
    for rb in out:
        if x > x0 and x + rb.width > max_width:
            y += row_h + 40
            x, row_h = x0, 0.0
        rb.x, rb.y = x, y
        x += rb.width + (16 if plan.runs[rb.index].count > 1 else 0)
        row_h = max(row_h, rb.height + (18 if plan.runs[rb.index].count > 1 else 0))
    for rb in out:
        for b in plan.by_run.get(rb.index, []):
            bx = rb.x + sum(rb.cols[:b.col]) + sum(rb.gaps[:b.col + 1])
            by = rb.y + sum(rb.lanes[:b.lane]) + _TOP
            b.x = bx + (rb.cols[b.col] - 30 - b.width) / 2 + 4
            lane_streams = round((rb.lanes[b.lane] - _TOP - _BOTTOM) / b.slot)
            # centred in its stream slot; a single stream among several is centred on the lane
            spare = (lane_streams - b.streams) * b.slot / 2 + (b.slot - b.own) / 2
            b.y = by + spare + b.dy
    return out


# ---------------------------------------------------------------- drawing


def _cuboid(c: Canvas, x: float, y: float, w: float, h: float, dx: float, dy: float, fill: str) -> None:
    c.rect(x, y, w, h, class_="box", fill=fill)
    c.polygon([(x, y), (x + dx, y - dy), (x + w + dx, y - dy), (x + w, y)], class_="face", fill=fill)
    c.polygon([(x + w, y), (x + w + dx, y - dy), (x + w + dx, y + h - dy), (x + w, y + h)],
              class_="face", fill=fill, fill_opacity="0.75")


def _size_text(value: int) -> str:
    return f"{value:,}" if value >= 10_000 else str(value)


def _draw_box(c: Canvas, b: _Box) -> None:
    s = b.r.shape
    per = s.channels // b.streams
    c.open("g", class_="layer", data_layer=b.r.name)
    c.title(_tooltip(b))
    c.text(b.x, b.y - b.dy - 8, b.r.name, _NAME_SIZE, "start", class_="name")
    for i in range(b.streams):
        y = b.stream_y(i)
        _cuboid(c, b.x, y, b.w, b.h, b.dx, b.dy, _color(b.r))
        if s.rank >= 1:
            c.text(b.x - 3, y + b.h / 2 + 3, _size_text(s.spatial[-2] if s.rank >= 2 else s.spatial[0]),
                   _LABEL_SIZE, "end", class_="size")
        if s.rank >= 2:
            c.text(b.x + b.w + b.dx / 2 + 4, y + b.h - b.dy / 2 + 12, _size_text(s.spatial[-1]),
                   _LABEL_SIZE, "start", class_="size")
        under = _size_text(per)
        if s.rank == 3:
            under += f" x D{s.spatial[0]}"
        g = _groups(b.r)
        if g > _MAX_STREAMS:
            under += f" g{g}"
        c.text(b.x + b.w / 2, y + b.h + 12, under, _LABEL_SIZE, "middle", class_="size")
    c.close("g")


def _tooltip(b: _Box) -> str:
    r = b.r
    text = f"{r.name}: {format_op(r.node.op)}\noutput {r.shape}, {r.neurons:,} neurons"
    if r.params:
        text += f", {r.params:,} params"
    if r.macs:
        text += f", {r.macs:,} MACs"
    return text


def _connected(src: _Box, dst: _Box) -> list[tuple[int, int]]:
    """Which source stream feeds which target stream."""
    if src.streams == dst.streams and ((_groups(dst.r) % dst.streams == 0 and dst.streams > 1)
                                       or not dst.r.weighted):
        return [(i, i) for i in range(dst.streams)]
    return [(i, j) for i in range(src.streams) for j in range(dst.streams)]


def _face_point(b: _Box, stream: int, u: float, v: float) -> tuple[float, float]:
    """A point on the side (height x width) face: u along the width, v down the height."""
    y = b.stream_y(stream)
    return b.x + b.w + u * b.dx, y - u * b.dy + v * b.h


def _draw_kernel(c: Canvas, plan: _Plan, src: _Box, dst: _Box, pairs: list[tuple[int, int]],
                 kernel: tuple[int, ...]) -> None:
    reads = plan.report[dst.r.inputs[0]].shape.spatial
    kh = min(1.0, kernel[-2] / reads[-2]) if len(kernel) >= 2 else min(1.0, kernel[0] / reads[0])
    kw = min(1.0, kernel[-1] / reads[-1]) if len(kernel) >= 2 else 1.0
    kv = max(kh, 4 / max(src.h, 1))
    ku = max(kw, 4 / max(src.depth, 1)) if len(kernel) >= 2 else 1.0
    labelled = False
    for i, j in pairs:
        n = dst.streams
        v0 = min(1 - kv, max(0.0, (0.3 + 0.4 * j / max(n - 1, 1)) - kv / 2)) if n > 1 else max(0.0, 0.45 - kv / 2)
        u0 = max(0.0, 0.5 - ku / 2)
        corners = [_face_point(src, i, u0, v0), _face_point(src, i, u0 + ku, v0),
                   _face_point(src, i, u0 + ku, v0 + kv), _face_point(src, i, u0, v0 + kv)]
        c.polygon(corners, class_="kern")
        ty = dst.stream_y(j) + dst.h * 0.5
        tx = dst.x + dst.w * 0.4
        for px, py in (corners[1], corners[2]):
            c.line(px, py, tx, ty, class_="proj")
        if not labelled:
            text = "\u00d7".join(str(k) for k in kernel)
            stride = getattr(dst.r.node.op, "stride", (1,))
            if isinstance(stride, tuple) and any(st > 1 for st in stride):
                text += " s" + "\u00d7".join(map(str, stride))
            c.text(corners[1][0] + 3, corners[1][1] - 3, text, 9, "start", class_="note")
            labelled = True


def _anchor_out(b: _Box, stream: int) -> tuple[float, float]:
    y = b.stream_y(stream)
    return b.x + b.w + b.dx / 2, y + b.h / 2 - b.dy / 2


def _anchor_in(b: _Box, stream: int) -> tuple[float, float]:
    y = b.stream_y(stream)
    return b.x, y + b.h / 2


def _draw_edge(c: Canvas, plan: _Plan, src: _Box, dst: _Box, rows: dict[int, _RunBox]) -> None:
    pairs = _connected(src, dst)
    kernel = _kernel(dst.r, dst.r.shape.rank)
    same_row = rows[src.run].y == rows[dst.run].y
    next_in_lane = src.lane == dst.lane and plan.order[dst.r.name] - plan.order[src.r.name] <= 1
    next_column = src.run == dst.run and dst.col - src.col == 1
    adjacent = same_row and (next_in_lane or next_column)
    if kernel is not None and adjacent and src.r.shape.rank > 0:
        _draw_kernel(c, plan, src, dst, pairs, kernel)
        return
    for i, j in pairs:
        sx, sy = _anchor_out(src, i)
        tx, ty = _anchor_in(dst, j)
        if not same_row:
            row = rows[src.run]
            low = row.y + row.height + 20
            d = f"M{fmt(sx)},{fmt(sy)} H{fmt(sx + 12)} V{fmt(low)} H{fmt(tx - 14)} V{fmt(ty)} H{fmt(tx)}"
        elif src.lane == dst.lane and not adjacent:
            top = min(src.y - src.dy, dst.y - dst.dy) - 22
            d = (f"M{fmt(src.x + src.w / 2)},{fmt(src.y - src.dy)} V{fmt(top)} "
                 f"H{fmt(dst.x + dst.w / 2)} V{fmt(dst.y - dst.dy)}")
        else:
            mid = tx - 14
            d = f"M{fmt(sx)},{fmt(sy)} H{fmt(mid)} V{fmt(ty)} H{fmt(tx)}"
        c.path(d, class_="edge", marker_end="url(#arrow)")


def _draw_frame(c: Canvas, plan: _Plan, rb: _RunBox) -> None:
    run = plan.runs[rb.index]
    unit = run.layers(plan.report)
    drawn = [j for j, r in enumerate(unit) if r.name in plan.boxes]
    layers = plan.report.layers
    first = unit[drawn[0]].name
    last = layers[run.start + len(unit) * (run.count - 1) + drawn[-1]].name
    c.rect(rb.x + 4, rb.y + 4, rb.width + 4, rb.height + 4, class_="frame", rx="8")
    c.text(rb.x + rb.width + 6, rb.y + 18, f"\u00d7{run.count}", 14, "end", class_="count")
    c.text(rb.x + 8, rb.y + rb.height + 20, f"{first} ... {last}", 9, "start", class_="note")


def render_volumes(report: Report, *, collapse: bool = True, max_width: float = 1500) -> str:
    """The network as 3D volumes (see the module docstring)."""
    plan = _Plan(report, collapse)
    _size_boxes(plan)
    placed = _layout_runs(plan, max_width)
    rows = {rb.index: rb for rb in placed}
    c = Canvas()
    c.raw('<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
          'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>')
    t = report.totals
    c.text(10, 18, f"{report.model}", 15, "start", class_="name", font_weight="bold")
    c.text(10, 34, f"input {', '.join(map(str, report.inputs))} | convention {report.convention.name} | "
           f"{t.neurons:,} neurons | {t.params:,} params | {t.macs:,} MACs", 10, "start", class_="note")
    for rb in placed:
        if plan.runs[rb.index].count > 1:
            _draw_frame(c, plan, rb)
    for b in plan.boxes.values():
        if b.note:
            rb = rows[b.run]
            bottom = rb.y + sum(rb.lanes[:b.lane + 1]) - 2
            c.text(b.x - 8, bottom, b.note, _LABEL_SIZE - 1, "end", class_="note")
    for b in plan.boxes.values():
        _draw_box(c, b)
    for b in plan.boxes.values():
        for name in b.sources:
            if name in plan.boxes:
                _draw_edge(c, plan, plan.boxes[name], b, rows)
    return c.svg(title=f"{report.model}: volumes", style=_CSS)

