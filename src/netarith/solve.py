"""The inverse questions: which padding, output padding, input size or in_features fits.

Every solver searches a small range with the arithmetic the analysis uses
(``arith.window_count``, ``arith.transposed_size``, ``arith.same_padding``, the
size rules of ``sizes.py``) and returns every solution, the simplest first; each
carries the derivation that proves it (``trace.py``).

>>> [s.notation for s in padding(224, 112, 7, 2) if s.frameworks[0] == "pytorch"][:2]
['p3', 'p2+3']
>>> output_padding(16, 32, 3, 2, 1).output_padding
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._values import field, frozen
from .arith import ceil_div, same_padding, transposed_size, window_count
from .closedform import NoClosedForm
from .conventions import Convention
from .errors import NetarithError, ShapeError, SpecError
from .shape import Shape
from .trace import Step, Trace

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .sources import Source

__all__ = [
    "InputAnswer",
    "LinearAnswer",
    "OutputPaddingAnswer",
    "PaddingSolution",
    "input_sizes",
    "linear",
    "output_padding",
    "padding",
]


# ----------------------------------------------------------------------------- padding


@frozen
class PaddingSolution:
    """A padding (before, after) that gives the wanted output, and who can write it."""

    rounding: str  # "floor", "ceil" or "same" (TensorFlow's SAME)
    pad_before: int
    pad_after: int
    out: int
    lost: int  # input pixels no window reads
    overhang: int  # pixels the last window reaches past the padded input
    unused: int  # end padding after the last window (harmless)
    frameworks: tuple[str, ...]
    how: str
    steps: tuple[Step, ...] = ()

    @property
    def symmetric(self) -> bool:
        return self.pad_before == self.pad_after

    @property
    def notation(self) -> str:
        if self.rounding == "same":
            return "same"
        return f"p{self.pad_before}" if self.symmetric else f"p{self.pad_before}+{self.pad_after}"

    @property
    def exact(self) -> bool:
        return not (self.lost or self.overhang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounding": self.rounding, "padding": [self.pad_before, self.pad_after], "out": self.out,
            "frameworks": list(self.frameworks), "how": self.how, "notation": self.notation,
            "lost": self.lost, "overhang": self.overhang, "unused_padding": self.unused,
            "steps": [s.to_dict() for s in self.steps],
        }


@frozen
class _Mode:
    rounding: str
    clip: str
    frameworks: tuple[str, ...]
    symmetric_only: bool
    how: str
    pad_limit: str = "none"  # "pytorch" (p <= k//2) or "caffe" (p < k)


_CONV_MODES = (
    _Mode("floor", "none", ("pytorch", "caffe", "tensorflow"), True, "padding={p}"),
    _Mode("floor", "none", ("pytorch", "tensorflow"), False,
          "pad {pl} before and {pr} after (PyTorch: F.pad or nn.ZeroPad then padding=0; TensorFlow: explicit)"),
    _Mode("ceil", "none", ("cuda-convnet",), True, "padding={p} (cuda-convnet rounds up)"),
)

_POOL_MODES = (
    _Mode("floor", "pytorch", ("pytorch",), True, "padding={p}", "pytorch"),
    _Mode("ceil", "pytorch", ("pytorch",), True, "padding={p}, ceil_mode=True", "pytorch"),
    _Mode("ceil", "caffe", ("caffe",), True, "pad: {p} (Caffe pooling rounds up)", "caffe"),
    _Mode("ceil", "none", ("cuda-convnet",), True, "padding={p} (cuda-convnet rounds up)"),
)


def padding(size: int, out: int, kernel: int, stride: int = 1, dilation: int = 1, *, pool: bool = False,
            max_pad: int | None = None) -> list[PaddingSolution]:
    """Every padding up to ``max_pad`` per side giving ``out`` windows on ``size``, simplest first.

    Simplest: no input pixel dropped and no window past the padded input, then
    symmetric, then least padding, then the odd pixel at the end.
    """
    for name, value in (("in", size), ("out", out), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if value < 1:
            raise SpecError(f"solve padding: --{name} must be at least 1: {value}")
    k_eff = dilation * (kernel - 1) + 1
    limit = max(k_eff, stride) if max_pad is None else max_pad
    found = []
    for mode in _POOL_MODES if pool else _CONV_MODES:
        for pl in range(limit + 1):
            for pr in ([pl] if mode.symmetric_only else range(limit + 1)):
                if not mode.symmetric_only and pl == pr:
                    continue
                if (mode.pad_limit == "pytorch" and max(pl, pr) > kernel // 2) or (
                        mode.pad_limit == "caffe" and max(pl, pr) >= kernel):
                    continue
                solution = _try(size, out, kernel, stride, dilation, pl, pr, mode)
                if solution is not None:
                    found.append(solution)
    same = _same(size, out, kernel, stride, dilation)
    if same is not None:
        found.append(same)
    return sorted(found, key=_simplest)


def _simplest(s: PaddingSolution) -> tuple[int, int, int, int, int, int]:
    order = {"floor": 0, "same": 1, "ceil": 2}[s.rounding]
    return (not s.exact, not s.symmetric, s.pad_before + s.pad_after, abs(s.pad_before - s.pad_after),
            s.pad_before > s.pad_after, order)


def _try(size: int, out: int, kernel: int, stride: int, dilation: int, pl: int, pr: int,
         mode: _Mode) -> PaddingSolution | None:
    k_eff = dilation * (kernel - 1) + 1
    if mode.rounding == "floor" and size + pl + pr < k_eff:
        return None
    c = window_count(size, kernel, stride, pl, pr, dilation, mode.rounding, mode.clip)  # type: ignore[arg-type]
    if c.out != out:
        return None
    trace = Trace()
    window_count(size, kernel, stride, pl, pr, dilation, mode.rounding, mode.clip,  # type: ignore[arg-type]
                 trace=trace, axis="out")
    unused = c.span % stride - c.lost if mode.rounding == "floor" else 0
    how = mode.how.format(p=pl, pl=pl, pr=pr)
    return PaddingSolution(mode.rounding, pl, pr, out, c.lost, c.overhang, unused, mode.frameworks, how,
                           tuple(trace.steps))


def _same(size: int, out: int, kernel: int, stride: int, dilation: int) -> PaddingSolution | None:
    trace = Trace()
    before, after = same_padding(size, kernel, stride, dilation, "tensorflow", trace=trace, axis="out")
    got = ceil_div(size, stride)
    trace.step("out", "ceil(i/s)", f"ceil({size}/{stride})", got)
    if got != out:
        return None
    c = window_count(size, kernel, stride, before, after, dilation, "floor", "none")
    return PaddingSolution("same", before, after, got, c.lost, c.overhang, c.span % stride - c.lost,
                           ("tensorflow",), f"padding='SAME' ({before} before, {after} after)", tuple(trace.steps))


# ----------------------------------------------------------------------------- output padding


@frozen
class OutputPaddingAnswer:
    """The output_padding a transposed convolution needs, and why it exists."""

    size: int
    out: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    output_padding: int | None  # None: no valid output_padding with this padding
    steps: tuple[Step, ...]
    #: other (padding, output_padding) pairs giving ``out``, simplest first
    alternatives: tuple[tuple[int, int], ...]
    #: the input sizes the matching convolution maps to ``size``: what output_padding chooses between
    preimages: tuple[int, ...]
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "in": self.size, "out": self.out, "kernel": self.kernel, "stride": self.stride,
            "padding": self.padding, "dilation": self.dilation, "output_padding": self.output_padding,
            "steps": [s.to_dict() for s in self.steps], "reason": self.reason,
            "alternatives": [{"padding": p, "output_padding": o} for p, o in self.alternatives],
            "conv_inputs_mapping_to_in": list(self.preimages),
        }


def _valid_op(op: int, stride: int, dilation: int) -> bool:
    # ATen: output padding must be smaller than either stride or dilation
    return op >= 0 and (op < stride or op < dilation)


def output_padding(size: int, out: int, kernel: int, stride: int = 1, padding: int = 0,
                   dilation: int = 1) -> OutputPaddingAnswer:
    """The ``output_padding`` that makes a transposed convolution give ``out`` from ``size``."""
    for name, value in (("in", size), ("out", out), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if value < 1:
            raise SpecError(f"solve output-padding: --{name} must be at least 1: {value}")
    if padding < 0:
        raise SpecError(f"solve output-padding: --padding must be at least 0: {padding}")
    trace = Trace()
    base = transposed_size(size, kernel, stride, padding, padding, dilation, 0, trace=trace, axis="out")
    op: int | None = out - base
    reason = ""
    if not _valid_op(op, stride, dilation):  # type: ignore[arg-type]
        reason = (f"output_padding would be {op}, but it must be at least 0 and smaller than the stride "
                  f"{stride} or the dilation {dilation}")
        op = None
    else:
        transposed_size(size, kernel, stride, padding, padding, dilation, op,  # type: ignore[arg-type]
                        trace=trace, axis="out")
    k_eff = dilation * (kernel - 1) + 1
    alternatives = []
    for p in range(k_eff + 1):
        o = out - transposed_size(size, kernel, stride, p, p, dilation, 0)
        if _valid_op(o, stride, dilation) and (p, o) != (padding, op):
            alternatives.append((p, o))
    alternatives.sort(key=lambda pair: (pair[1], abs(pair[0] - padding)))
    preimages = tuple(i for i in range(max(1, out - stride - k_eff), out + stride + k_eff + 1)
                      if i + 2 * padding >= k_eff
                      and window_count(i, kernel, stride, padding, padding, dilation, "floor", "none").out == size)
    return OutputPaddingAnswer(size, out, kernel, stride, padding, dilation, op, tuple(trace.steps),
                               tuple(alternatives), preimages, reason)


# ----------------------------------------------------------------------------- input sizes


@frozen(slots=False)
class InputAnswer:
    """The network input sizes (per axis) that give a layer a wanted output size."""

    layer: str
    want: Mapping[str, int]
    sizes: Mapping[str, tuple[int, ...]]
    exact: Mapping[str, tuple[int, ...]]
    forms: Mapping[str, str]
    range: tuple[int, int]
    default: Mapping[str, int]

    def runs(self, axis: str) -> list[tuple[int, int]]:
        """The sizes as runs of consecutive values."""
        runs: list[tuple[int, int]] = []
        for n in self.sizes[axis]:
            if runs and runs[-1][1] == n - 1:
                runs[-1] = (runs[-1][0], n)
            else:
                runs.append((n, n))
        return runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "out": dict(self.want), "range": list(self.range),
            "closed_form": dict(self.forms),
            "inputs": {a: list(v) for a, v in self.sizes.items()},
            "runs": {a: [list(r) for r in self.runs(a)] for a in self.sizes},
            "exact_inputs": {a: list(v) for a, v in self.exact.items()},
        }



def input_sizes(source: Source, layer: str, out: str | int | Sequence[int], *,
                input: str | Shape | Sequence[int] | None = None, convention: str | Convention | None = None,
                range: tuple[int, int] | None = None, mode: str = "eval") -> InputAnswer:
    """Which input sizes give ``layer`` the output size ``out`` (``7`` or ``7x7``), per axis."""
    from .sizes import exact_at, min_input, size_model
    from .sources import load

    graph = load(source)
    if input is not None:
        graph = graph.with_input(input)
    graph[layer]  # raises with a suggestion
    model = size_model(graph, convention, mode)
    form = next((x for x in model.layers if x.name == layer), None)
    if form is None:
        raise NetarithError(f"{layer} does not run in {mode} mode at this input; try --mode train")
    axes = {next(iter(e.variables())): n for n, e in enumerate(form.dims) if len(e.variables()) == 1}
    if not axes:
        raise NetarithError(f"{layer}'s size does not depend on the input size along one axis ({form.shape})")
    want = _want(out, list(axes))
    lo, hi = range if range is not None else (1, 4 * max(model.default.values()))
    smallest, _, _ = min_input(model)
    sizes: dict[str, tuple[int, ...]] = {}
    exact: dict[str, tuple[int, ...]] = {}
    for axis, n in axes.items():
        expr = form.dims[n]
        hits = []
        for size in _between(lo, hi):
            env = model.env(**{axis: size})
            try:
                ok = size >= smallest[model.variables.index(axis)] and model.failing(env) is None
                got = expr.value(env) if ok else None
            except NoClosedForm:
                got = _run_dim(model, env, layer, n)
            if got == want[axis]:
                hits.append(size)
        sizes[axis] = tuple(hits)
        exact[axis] = tuple(s for s in hits if exact_at(model, axis, s, smallest))
    forms = {axis: str(form.dims[n]) for axis, n in axes.items()}
    return InputAnswer(layer, want, sizes, exact, forms, (lo, hi), dict(model.default))


def _between(lo: int, hi: int) -> Sequence[int]:
    import builtins

    return builtins.range(lo, hi + 1)


def _want(out: str | int | Sequence[int], axes: list[str]) -> dict[str, int]:
    if isinstance(out, int):
        values = [out]
    elif isinstance(out, str):
        try:
            values = [int(v) for v in out.lower().replace("×", "x").split("x")]
        except ValueError:
            raise SpecError(f"--out must be a size like 7 or 7x7: {out!r}") from None
    else:
        values = list(out)
    if len(values) == 1:
        values = values * len(axes)
    if len(values) != len(axes) or any(v < 1 for v in values):
        raise SpecError(f"--out needs one size, or one per axis ({', '.join(axes)}): {out!r}")
    return dict(zip(axes, values))


def _run_dim(model: Any, env: dict[str, int], layer: str, dim: int) -> int | None:
    from .analyze import analyze_graph

    try:
        report = analyze_graph(model.graph.with_input(model.shape_at(env), model.input_name),
                               convention=model.convention, mode=model.mode)
    except ShapeError:
        return None
    return report[layer].shape.dims[dim]


# ----------------------------------------------------------------------------- in_features


@frozen(slots=False)
class LinearAnswer:
    """What ``in_features`` a linear layer gets, where it comes from, and how to write it."""

    layer: str
    in_features: int
    out_features: int
    source: str  # the layer whose last axis feeds it
    steps: tuple[Step, ...]
    closed_form: str | None
    torch: str
    batch_dims: tuple[int, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "in_features": self.in_features, "out_features": self.out_features,
            "from": self.source, "steps": [s.to_dict() for s in self.steps], "closed_form": self.closed_form,
            "pytorch": self.torch,
        }


def linear(source: Source, *, input: str | Shape | Sequence[int] | None = None,
           convention: str | Convention | None = None, mode: str = "eval") -> list[LinearAnswer]:
    """The ``in_features`` of every linear layer, derived from the layers before it."""
    from .analyze import analyze_graph
    from .ops.linear import Linear
    from .sizes import size_model
    from .sources import load

    graph = load(source)
    if input is not None:
        graph = graph.with_input(input)
    traces: dict[str, Trace] = {}
    report = analyze_graph(graph, convention=convention, mode=mode, traces=traces)
    try:
        forms = {x.name: x for x in size_model(graph, convention, mode).layers}
    except NetarithError:
        forms = {}
    answers = []
    for node in graph.nodes:
        if not isinstance(node.op, Linear):
            continue
        feed = node.inputs[0]
        x = report[feed].shape
        origin, steps = _origin(graph, traces, report, feed)
        form = forms.get(feed)
        closed = str(form.dims[-1]) if form is not None and form.dims[-1].variables() else None
        answers.append(LinearAnswer(
            node.name, x.dims[-1], node.op.out, origin, steps, closed,
            f"nn.Linear({x.dims[-1]}, {node.op.out}, bias={node.op.bias})", x.dims[:-1],
        ))
    if not answers:
        raise NetarithError("the network has no linear layer")
    return answers


def _origin(graph: Any, traces: dict[str, Trace], report: Any, name: str) -> tuple[str, tuple[Step, ...]]:
    """The nearest layer at or before ``name`` that computed its last axis, and its steps."""
    current = name
    while True:
        shape = report[current].shape
        last = "features" if shape.rank == 0 else shape.axis_names()[-1]
        steps = tuple(s for s in traces[current].steps if s.quantity == last)
        if steps or not graph[current].inputs:
            return current, steps
        parent = graph[current].inputs[0]
        if report[parent].shape != shape:
            return current, tuple(s for s in traces[current].steps if s.quantity == "shape")
        current = parent
