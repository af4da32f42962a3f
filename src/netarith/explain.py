"""Every number of a layer as a derivation: the formula, the formula with the numbers, the result.

The derivations are recorded by the code that computes the numbers (``trace.py``):
the analysis runs once with a :class:`~netarith.trace.Trace` per layer, and each
op, the window arithmetic of ``arith.py`` and the receptive-field rules write down
what they compute as they compute it. Nothing here does arithmetic of its own.

For a layer whose windows do not divide evenly, the explanation also shows what
else the same layer would give, each computed by running the layer again: under
the other rounding conventions, at the nearest input sizes where the windows fit
exactly, and with the paddings that give each of those output sizes
(``solve.padding``). For AlexNet's conv1 at 224 that is the whole story of the
paper's 55: floor gives 54, cuda-convnet's ceil 55, 227 fits exactly, and 3
pixels of padding (cs231n's guess) give 55 too.

>>> e = explain("3x224x224 | conv1: conv 96 k11 s4", layer="conv1")
>>> [s.numbers for s in e.layers[0].steps if s.quantity == "H"]
['floor((224 + 2*0 - 1*(11-1) - 1)/4) + 1 = floor(53.25) + 1']
>>> [s.result for s in e.layers[0].steps if s.quantity == "H"]
['54']
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ._values import frozen
from .analyze import Report, analyze_graph
from .arith import window_count
from .conventions import CONVENTIONS, Convention
from .errors import NetarithError, ShapeError, SpecError
from .graph import Graph, Node
from .notation.printer import format_op
from .ops.base import Context, Out
from .shape import Shape
from .sizerules import Window
from .trace import Step, Trace

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .sources import Source

__all__ = ["Alternative", "Explanation", "LayerExplanation", "explain", "render"]

FORMATS = ("text", "markdown", "json")


@frozen
class Alternative:
    """The same layer computed another way: a title, the derivations, what they give."""

    title: str
    steps: tuple[Step, ...]
    result: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "steps": [s.to_dict() for s in self.steps], "result": self.result,
                "warnings": list(self.warnings)}


@frozen
class LayerExplanation:
    name: str
    kind: str
    notation: str
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    shape: Shape
    steps: tuple[Step, ...]
    warnings: tuple[str, ...]
    alternatives: tuple[tuple[str, tuple[Alternative, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "notation": self.notation,
            "inputs": list(self.inputs),
            "input_shapes": [list(s.dims) for s in self.input_shapes],
            "output_shape": list(self.shape.dims),
            "steps": [s.to_dict() for s in self.steps],
            "warnings": list(self.warnings),
            "alternatives": [{"heading": h, "items": [a.to_dict() for a in alts]} for h, alts in self.alternatives],
        }


@frozen(slots=False)
class Explanation:
    report: Report
    layers: tuple[LayerExplanation, ...]

    @property
    def convention(self) -> Convention:
        return self.report.convention

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "model": r.model,
            "convention": r.convention.name,
            "convention_rules": r.convention.description,
            "input": list(r.input.dims),
            "layers": [x.to_dict() for x in self.layers],
        }

    def render(self, fmt: str = "text") -> str:
        return render(self, fmt)


def explain(
    source: Source,
    layer: str | None = None,
    input: str | Shape | Sequence[int] | None = None,
    convention: str | Convention | None = None,
    mode: str = "eval",
) -> Explanation:
    """Derivations of every number of one layer (``layer``) or of every layer."""
    from .sources import load

    graph = load(source)
    if input is not None:
        graph = graph.with_input(input)
    if layer is not None and layer not in graph:
        graph[layer]  # raises with a suggestion
    traces: dict[str, Trace] = {}
    report = analyze_graph(graph, convention=convention, mode=mode,
                           **({"traces": traces} if layer is None else {"trace_layer": layer,
                                                                        "trace": traces.setdefault(layer, Trace())}))
    names = [layer] if layer is not None else [n.name for n in graph.nodes]
    shapes = {r.name: r.shape for r in report.layers}
    layers = []
    for name in names:
        node = graph[name]
        result = report[name]
        ins = tuple(shapes[n] for n in node.inputs)
        alternatives = _alternatives(node, ins, report.convention, graph) if layer is not None else ()
        layers.append(LayerExplanation(
            name, node.op.kind, format_op(node.op), node.inputs, ins, result.shape,
            tuple(traces[name].steps), result.warnings, alternatives,
        ))
    return Explanation(report, tuple(layers))


# ----------------------------------------------------------------------------- alternatives


def _run(node: Node, ins: Sequence[Shape], convention: Convention) -> tuple[Out, Trace] | None:
    trace = Trace()
    try:
        return node.op.infer(list(ins), Context(convention, trace)), trace
    except (ShapeError, SpecError):
        return None


def _axis_steps(trace: Trace, x: Shape) -> tuple[Step, ...]:
    axes = set(x.axis_names())
    return tuple(s for s in trace.steps if s.quantity in axes or s.quantity.startswith("padding "))


def _windows(out: Out) -> list[tuple[int, Window]]:
    if out.sizes is None:
        return []
    return [(n, r) for n, r in enumerate(out.sizes.dims) if isinstance(r, Window)]


def _alternatives(node: Node, ins: Sequence[Shape], active: Convention,
                  graph: Graph) -> tuple[tuple[str, tuple[Alternative, ...]], ...]:
    """Other ways to compute a sliding-window layer, when its windows do not fit evenly."""
    if len(ins) != 1:
        return ()
    x = ins[0]
    here = _run(node, ins, active)
    if here is None:
        return ()
    out, _ = here
    windows = _windows(out)
    if not windows:
        return ()
    by_rule: dict[str, list[str]] = {}
    runs: dict[str, tuple[Out, Trace]] = {}
    for name, conv in CONVENTIONS.items():
        run = _run(node, ins, conv)
        key = "refused" if run is None else str(run[0].shape)
        by_rule.setdefault(key, []).append(name)
        if run is not None:
            runs[name] = run
    uneven = any(_uneven(x.dims[r.dim], r) for _, r in windows)
    if len(by_rule) == 1 and not uneven:
        return ()
    sections = []
    conventions = []
    for key, names in by_rule.items():
        if key == "refused":
            conventions.append(Alternative(f"{', '.join(names)}: the layer is refused", (), "refused"))
            continue
        o, t = runs[names[0]]
        roundings = sorted({"rounds up" if r.rounding == "ceil" else "rounds down" for _, r in _windows(o)})
        conventions.append(Alternative(
            f"{', '.join(names)} ({' and '.join(roundings)})", _axis_steps(t, x),
            f"{o.shape}, {o.shape.numel:,} neurons", o.warnings))
    sections.append(("The same layer under each rounding convention", tuple(conventions)))
    fitting = _fitting_inputs(node, x, active, windows)
    if fitting:
        first = node.inputs == (graph.inputs[0].name,) if graph.inputs else False
        where = "network input" if first else "layer input"
        sections.append((f"The nearest {where} sizes where this layer's windows fit exactly ({active.name})",
                         fitting))
    padded = _paddings(node, x, runs, windows)
    if padded:
        sections.append((f"Paddings that give these sizes from {_spatial(x)} with rounding down, "
                         "simplest first", padded))
    return tuple(sections)


def _uneven(i: int, r: Window) -> bool:
    c = window_count(i, r.kernel, r.stride, r.pad_before, r.pad_after, r.dilation, r.rounding, r.clip)
    return bool(c.lost or c.overhang)


def _spatial(x: Shape) -> str:
    return "x".join(map(str, x.spatial))


def _fitting_inputs(node: Node, x: Shape, active: Convention, windows: list[tuple[int, Window]]) -> tuple[
        Alternative, ...]:
    """The input sizes below and above ``x`` where no window drops or invents a pixel."""
    found = []
    for direction in (-1, 1):
        sizes = list(x.spatial)
        ok = True
        for _, r in windows:
            i = x.dims[r.dim]
            size = _nearest_fit(i, r, direction)
            if size is None:
                ok = False
                break
            sizes[r.dim - 1] = size
        if not ok or tuple(sizes) == x.spatial:
            continue
        y = x.with_spatial(tuple(sizes))
        run = _run(node, [y], active)
        if run is not None:
            o, t = run
            found.append(Alternative(f"input {y}", _axis_steps(t, y), f"{o.shape}, {o.shape.numel:,} neurons",
                                     o.warnings))
    return tuple(found)


def _nearest_fit(i: int, r: Window, direction: int) -> int | None:
    size = i
    for _ in range(4 * r.stride + 4):
        size += direction
        if size < 1:
            return None
        c = window_count(size, r.kernel, r.stride, r.pad_before, r.pad_after, r.dilation, r.rounding, r.clip)
        if c.span >= 0 and not c.lost and not c.overhang:
            return size
    return None


def _paddings(node: Node, x: Shape, runs: dict[str, tuple[Out, Trace]],
              windows: list[tuple[int, Window]]) -> tuple[Alternative, ...]:
    """For each output size the conventions gave, the simplest paddings giving it with floor rounding."""
    from .solve import padding as solve_padding

    if not hasattr(node.op, "padding") or len(windows) != x.rank:
        return ()
    targets = sorted({run[0].shape.spatial for run in runs.values()})
    floor = CONVENTIONS["pytorch"] if node.op.kind == "conv" else CONVENTIONS["tensorflow"]
    found: list[Alternative] = []
    for target in targets:
        per_axis = []
        for (_, r), want in zip(windows, target):
            options = [s for s in solve_padding(x.dims[r.dim], want, r.kernel, r.stride, r.dilation)
                       if s.rounding == "floor" and not s.lost and s.pad_before <= s.pad_after]
            per_axis.append(_pick(options))
        if any(not p for p in per_axis):
            found.append(Alternative(f"{'x'.join(map(str, target))}: no padding gives it from {_spatial(x)} "
                                     "without leaving input pixels unread", (), "none"))
            continue
        uniform = len({tuple(p) for p in per_axis}) == 1
        choices = [(c,) for c in per_axis[0]] if uniform else [tuple(p[0] for p in per_axis)]
        for choice in choices:
            floor_flag = {"rounding": "floor"} if getattr(node.op, "rounding", None) == "ceil" else {}
            try:
                op = node.op.replace(padding=tuple(choice), **floor_flag)
            except NetarithError:
                continue
            run = _run(Node(node.name, op, node.inputs), [x], floor)
            if run is None:
                continue
            o, t = run
            total = {pb + pa for pb, pa in choice}
            extra = (f"{total.pop()} pixel{'s' if max(pb + pa for pb, pa in choice) != 1 else ''} of padding per axis"
                     if len(total) == 1 else "")
            found.append(Alternative(f"{format_op(op)}" + (f", {extra}" if extra else ""), _axis_steps(t, x),
                                     f"{o.shape}, {o.shape.numel:,} neurons", o.warnings))
    return tuple(found)


def _pick(options: list[Any]) -> list[tuple[int, int]]:
    """The simplest symmetric padding, then up to two that leave no padding unused."""
    chosen = [s for s in options if s.symmetric][:1]
    chosen += [s for s in options if not s.symmetric and not s.unused][:2]
    return [(s.pad_before, s.pad_after) for s in chosen]


# ----------------------------------------------------------------------------- rendering

_DIMS = ("shape", "C", "D", "H", "W", "L", "features")
_COUNTS = ("neurons", "params", "buffers", "macs", "connections")
_RF = ("rf.size", "rf.jump", "rf.start", "rf")


def _rank(s: Step) -> tuple[int, int, int]:
    """Reading order: sizes, the counts, then the receptive field (size, jump, start; H before W)."""
    q = s.quantity
    if q.startswith("padding "):
        return 0, 0, _DIMS.index(_axis_of(q)) if _axis_of(q) in _DIMS else 9
    if q in _DIMS or q.startswith("dim "):
        return 0, 1, _DIMS.index(q) if q in _DIMS else int(q.split()[1]) + 10
    if q in _COUNTS:
        return 1 + _COUNTS.index(q), 0, 0
    stem = _stem(q) or q
    axis = _axis_of(q)
    return 10, _RF.index(stem) if stem in _RF else 9, _DIMS.index(axis) if axis in _DIMS else 9


def _group(steps: Sequence[Step]) -> list[tuple[str, list[Step]]]:
    ordered = sorted(steps, key=_rank)  # stable: within a quantity, the order of computing
    groups: list[tuple[str, list[Step]]] = []
    for s in ordered:
        r = _rank(s)[0]
        head = "size" if r == 0 else "receptive field" if r == 10 else s.quantity
        if groups and groups[-1][0] == head:
            groups[-1][1].append(s)
        else:
            groups.append((head, [s]))
    return groups


def _merge_axes(steps: Sequence[Step]) -> list[tuple[str, Step]]:
    """Steps that differ only in their axis (H and W) printed once: 'H, W = ...'."""
    merged: list[tuple[str, Step]] = []
    for s in steps:
        if merged:
            label, last = merged[-1]
            same = (last.formula, last.numbers, last.result, last.note) == (s.formula, s.numbers, s.result, s.note)
            if (same and _axis_of(last.quantity) != _axis_of(s.quantity) and _stem(last.quantity) == _stem(s.quantity)
                    and _axis_of(s.quantity) in _DIMS):
                merged[-1] = (f"{label}, {_axis_of(s.quantity)}", last)
                continue
        merged.append((s.quantity, s))
    return merged


def _axis_of(quantity: str) -> str:
    return quantity.rsplit(" ", 1)[-1]


def _stem(quantity: str) -> str:
    return quantity.rsplit(" ", 1)[0] if " " in quantity else ""


_WIDTH = 120


def _label(label: str) -> str:
    return {"macs": "MACs", "rf": "field"}.get(label, label.removeprefix("rf."))


def _lines(steps: Sequence[Step], indent: str) -> list[str]:
    out: list[str] = []
    shown = [s for s in steps if not (s.quantity == "buffers" and s.result == "0")]
    for label, s in _merge_axes(shown):
        name = _label(label)
        if not s.formula:
            out.append(f"{indent}{name}: {s.note}")
            continue
        head = f"{indent}{name} = "
        pad = " " * (len(head) - 2)
        parts = [s.formula]
        if s.numbers.replace(",", "") not in ("", s.result.replace(",", ""), s.formula):
            parts.append(s.numbers)
        if s.result.replace(",", "") != parts[-1].replace(",", ""):
            parts.append(s.result)
        one = head + " = ".join(parts)
        if len(one) <= _WIDTH:
            out.append(one)
        else:
            out.append(head + parts[0])
            out += [f"{pad}= {p}" for p in parts[1:]]
        if s.note:
            out.append(f"{' ' * len(head)}({s.note})")
    return out


def _layer_text(x: LayerExplanation, convention: Convention) -> list[str]:
    ins = ", ".join(str(s) for s in x.input_shapes) or "none"
    out = [f"{x.name}: {x.notation}   (input {ins} -> output {x.shape}; convention {convention.name})"]
    for head, steps in _group(x.steps):
        if head == "receptive field":
            out.append("  receptive field, in input pixels:")
            out += _lines(steps, "    ")
        else:
            out += _lines(steps, "  ")
    if x.warnings:
        out.append("  warnings:")
        out += [f"    - {w}" for w in x.warnings]
    for heading, alts in x.alternatives:
        out.append("")
        out.append(f"  {heading}:")
        for alt in alts:
            if not alt.steps and alt.result == "none":
                out.append(f"    {alt.title}")
                continue
            out.append(f"    {alt.title}:")
            out += _lines(alt.steps, "      ")
            out.append(f"      -> {alt.result}")
            out += [f"      ! {w}" for w in alt.warnings if w not in x.warnings]
    return out


def render(explanation: Explanation, fmt: str = "text") -> str:
    """The explanation as text, Markdown or JSON."""
    if fmt == "json":
        return json.dumps(explanation.to_dict(), indent=2) + "\n"
    if fmt not in FORMATS:
        raise SpecError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    r = explanation.report
    conv = r.convention
    head = f"{r.model}: input {', '.join(str(s) for s in r.inputs)}, convention {conv.name} ({conv.description})"
    blocks = [_layer_text(x, conv) for x in explanation.layers]
    if fmt == "text":
        return head + "\n\n" + "\n\n".join("\n".join(b) for b in blocks) + "\n"
    out = [f"**{_md(r.model)}**: input {', '.join(str(s) for s in r.inputs)}, convention `{conv.name}` "
           f"({_md(conv.description)})", ""]
    for x, block in zip(explanation.layers, blocks):
        out.append(f"### `{x.name}`: `{x.notation}`")
        out.append("")
        out.append("```")
        out += block[1:]
        out.append("```")
        out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")
