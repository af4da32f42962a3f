"""Graph + input + convention -> Report: every layer's numbers, and the totals.

Counting conventions (design.md): ``neurons`` are a layer's output elements per
sample, and ``totals.neurons`` sums the weighted layers (conv, convT, linear),
the papers' convention; ``totals.activations`` sums every layer's output, the
input included. ``macs`` are multiply-accumulates of conv, convT and linear
without bias (torchvision's ``_ops``); ``flops`` are ``2 * macs``.

``connections`` count, as LeNet-5 does, every link into a layer's units: each
multiply or fixed link plus the bias. Weighted layers: MACs + bias adds (the
default); pooling: its window per output; a learned shift (BatchNorm, a Scale
with bias...): one per output, as a bias; LRN: ``size`` per output; add, mul:
one link per input per output; upsampling: the cells each output interpolates.
Activations, scales, dropout, reshapes, concat and padding add none (each op
family's docstring says why).

With ``traces`` (or ``trace_layer`` and ``trace``) the same pass records how
each number was computed (``trace.py``; ``netarith explain`` prints it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from ._values import field, frozen, replace
from .conventions import Convention, get_convention
from .deadline import check as check_deadline
from .deadline import limited as time_limited
from .errors import NetarithError, ShapeError, SpecError, did_you_mean
from .graph import Graph, Node
from .ops.base import Context, Out
from .ops.input import Input
from .receptive import ELEMENTWISE, RF, Windows, apply, input_rf, through_windows, to_json
from .shape import Shape
from .trace import Trace, fmt_num

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .sources import Source

__all__ = ["DTYPES", "Counts", "LayerResult", "Report", "Totals", "analyze", "analyze_graph"]

#: Bytes per element for the memory figures.
DTYPES: dict[str, int] = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1,
}


@frozen
class Counts:
    """A layer's numbers that follow from its op and its input shapes alone. Computed once and
    shared by the layers alike (ResNet's repeated blocks); a training-only layer gets its own in
    eval mode, without its MACs."""

    shape: Shape
    neurons: int
    params: int
    buffers: int
    macs: int
    extras: Mapping[str, int]
    trainable: int
    connections: int
    uncounted: tuple[str, ...]
    weighted: bool  # counted in totals.neurons (conv, convT, linear)


@frozen
class LayerResult:
    """Everything computed for one layer: its node, its counts (shared with the layers alike),
    its receptive field and its warnings; each number is also an attribute (``r.macs``)."""

    node: Node
    counts: Counts
    rf: RF | None
    warnings: tuple[str, ...]

    def __repr__(self) -> str:
        return (f"LayerResult(name={self.name!r}, kind={self.kind!r}, shape={self.shape}, "
                f"params={self.params}, macs={self.macs})")

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def kind(self) -> str:
        return self.node.op.kind

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.node.inputs

    @property
    def shape(self) -> Shape:
        return self.counts.shape

    @property
    def neurons(self) -> int:
        """The output elements per sample."""
        return self.counts.neurons

    @property
    def params(self) -> int:
        return self.counts.params

    @property
    def trainable(self) -> int:
        return self.counts.trainable

    @property
    def buffers(self) -> int:
        return self.counts.buffers

    @property
    def macs(self) -> int:
        return self.counts.macs

    @property
    def flops(self) -> int:
        return 2 * self.counts.macs

    @property
    def connections(self) -> int:
        return self.counts.connections

    @property
    def extras(self) -> Mapping[str, int]:
        return self.counts.extras

    @property
    def uncounted(self) -> tuple[str, ...]:
        """The quantities that could not be counted (never counted as zero)."""
        return self.counts.uncounted

    @property
    def weighted(self) -> bool:
        return self.counts.weighted

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "inputs": list(self.inputs),
            "output_shape": list(self.shape.dims),
            "neurons": self.neurons,
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "receptive_field": to_json(self.rf),
            "warnings": list(self.warnings),
            "connections": self.connections,
            **({"not_counted": list(self.uncounted)} if self.uncounted else {}),
        }


@frozen
class Totals:
    params: int
    trainable_params: int
    buffers: int
    neurons: int
    activations: int
    macs: int
    flops: int
    activation_bytes: int
    param_bytes: int
    connections: int = 0
    #: layers with a quantity that could not be counted (their totals are lower bounds)
    not_counted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "buffers": self.buffers,
            "neurons": self.neurons,
            "activations": self.activations,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "connections": self.connections,
            **({"not_counted": list(self.not_counted)} if self.not_counted else {}),
        }


@frozen(slots=False)
class Report:
    """The analysis of one network under one convention.

    >>> r = analyze("3x227x227 | conv1: conv 96 k11 s4")
    >>> r["conv1"].shape.dims, r["conv1"].neurons, r["conv1"].params, r["conv1"].macs
    ((96, 55, 55), 290400, 34944, 105415200)
    """

    model: str
    convention: Convention
    inputs: tuple[Shape, ...]
    layers: tuple[LayerResult, ...]
    totals: Totals
    graph: Graph = field(repr=False)
    dtype: str = "float32"
    #: training-only layers left out in eval mode because they do not fit the input: (name, why)
    skipped: tuple[tuple[str, str], ...] = ()
    _index: dict[str, int] | None = field(init=False, default=None, repr=False, compare=False)

    def _positions(self) -> dict[str, int]:
        """Each layer's position by name, made when a layer is first looked up by name."""
        index = self._index
        if index is None:
            nodes = self.graph.nodes
            if len(nodes) == len(self.layers) and all(r.node is n for r, n in zip(self.layers, nodes)):
                index = self.graph._index  # a layer per node, in order: the graph's index serves (and
                # a 100,000-layer report holds one dict of names, not two)
            else:
                index = {r.name: i for i, r in enumerate(self.layers)}
            object.__setattr__(self, "_index", index)
        return index

    def __getitem__(self, name: str) -> LayerResult:
        index = self._positions()
        try:
            return self.layers[index[name]]
        except KeyError:
            raise NetarithError(f"no layer named {name!r}{did_you_mean(name, index)}") from None

    def __iter__(self) -> Iterator[LayerResult]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def input(self) -> Shape:
        return self.inputs[0]

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """(layer, warning) pairs in layer order, then the layers left out."""
        left_out = [(name, f"left out: it runs only in training and does not fit this input ({why})")
                    for name, why in self.skipped]
        return [(r.name, w) for r in self.layers for w in r.warnings] + left_out

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of design.md (integers exact, shapes per sample)."""
        return {
            "model": self.model,
            "convention": self.convention.name,
            "input": list(self.input.dims) if len(self.inputs) == 1
            else [list(s.dims) for s in self.inputs],
            "layers": [r.to_dict() for r in self.layers],
            "totals": self.totals.to_dict(),
            **({"skipped": [{"name": n, "reason": why} for n, why in self.skipped]} if self.skipped else {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        from .report.json import render

        return render(self, indent=indent)

    def _repr_html_(self) -> str:
        from .report.markdown import render_html

        return render_html(self)


def analyze(
    source: Source,
    input: str | Shape | Sequence[int] | None = None,
    convention: str | Convention | None = None,
    dtype: str = "float32",
    mode: str = "eval",
) -> Report:
    """Analyse a network: notation text, a file path, a zoo name, or a Graph.

    ``convention`` None means the source's own (a ``convention`` line), else pytorch.
    ``mode`` "eval" (default) leaves the MACs of training-only layers (auxiliary heads,
    marked ``@train``) out; "train" counts them.

    >>> analyze("3x224x224 | conv 96 k11 s4").layers[1].shape.dims
    (96, 54, 54)
    >>> analyze("3x224x224 | conv 96 k11 s4", convention="cuda-convnet").layers[1].shape.dims
    (96, 55, 55)
    """
    from .sources import load

    graph = load(source, input=input)
    if input is not None:
        graph = graph.with_input(input)
    return analyze_graph(graph, convention=convention, dtype=dtype, mode=mode)


def analyze_graph(
    graph: Graph,
    convention: str | Convention | None = None,
    dtype: str = "float32",
    mode: str = "eval",
    *,
    trace_layer: str | None = None,
    trace: Trace | None = None,
    traces: dict[str, Trace] | None = None,
) -> Report:
    """The analysis proper (``analyze`` resolves the source first).

    ``trace_layer`` and ``trace`` record the derivations of one layer; ``traces``,
    a dict, receives a :class:`Trace` for every layer.
    """
    if mode not in ("eval", "train"):
        raise SpecError(f"mode must be 'eval' or 'train': {mode!r}")
    conv = get_convention(convention if convention is not None else graph.convention)
    if dtype not in DTYPES:
        raise SpecError(f"unknown dtype {dtype!r}{did_you_mean(dtype, DTYPES)} (one of: {', '.join(DTYPES)})")
    inputs = graph.inputs
    if not inputs:
        raise NetarithError("the network has no input: add a line like 'input 3x224x224'")
    quiet = Context(conv)
    traced = Context(conv, trace)
    tracing = traces is not None or trace_layer is not None
    # Each layer's shape and field by its position in graph.nodes (lists, not dicts by name: a
    # long network's dicts outgrow the caches); a layer fed by the one before reads them directly.
    position = graph._index
    shapes: list[Shape] = [None] * len(graph.nodes)  # type: ignore[list-item]  # set in order
    fields: list[RF | None] = [None] * len(graph.nodes)
    before, before_at = "", -1  # the last layer analysed (a layer left out is not), and where
    results: list[LayerResult] = []
    append = results.append
    training: set[str] = set()  # train-only layers and everything fed only by them
    skipped: dict[str, str] = {}  # train-only layers that do not fit the input, left out in eval mode
    # What an op computes depends only on the op, its input shapes and the convention, so
    # layers that repeat (ResNet's identical blocks) are computed once: (op, *shapes) -> [its Out,
    # its Counts, how many layers have them]. The totals add each Counts times its layers.
    computed: dict[tuple[object, ...], list[Any]] = {}
    by_id: dict[tuple[int, ...], list[Any]] = {}
    own: list[Counts] = []  # counts made for one layer: traced, or a training-only layer's in eval mode
    not_counted: list[str] = []  # the layers with a quantity that could not be counted
    first_at = position[inputs[0].name]  # the notes of the graph are the first input's warnings
    limited = time_limited()
    layer_trace: Trace | None = None
    for i, node in enumerate(graph.nodes):
        if limited:
            check_deadline()
        op = node.op
        names = node.inputs
        name = node.name
        if tracing:
            if traces is not None:
                ctx = Context(conv, traces.setdefault(name, Trace()))
            else:
                ctx = traced if name == trace_layer else quiet
            layer_trace = ctx.trace
        train_only = node.train_only
        if training and not train_only and names and all(n in training for n in names):
            train_only = True  # fed only by training-only layers
        if train_only:
            training.add(name)
        if skipped:
            fed_by = next((n for n in names if n in skipped), None)
            if fed_by is not None:
                skipped[name] = f"fed by {fed_by}, which is left out"
                continue
        ins: list[Shape] | None = None
        if len(names) == 1:
            first = names[0]  # most often the very string object of the layer before's name
            source = before_at if first is before or first == before else position[first]
            # Looked up by identity first (a C-level hash of ints): the layers alike share their
            # op and input shapes; then by value. Both stay alive for the whole analysis (the
            # graph holds the ops, ``shapes`` the shapes), so no id is reused.
            same: tuple[int, ...] = (id(op), id(shapes[source]))
        else:
            sources = [position[n] for n in names]
            ins = [shapes[j] for j in sources]
            same = (id(op), *map(id, ins))
        entry = by_id.get(same) if layer_trace is None else None
        if entry is None:
            if ins is None:
                ins = [shapes[source]]
            try:
                if layer_trace is None:
                    key = (op, *ins)
                    entry = computed.get(key)
                    if entry is None:
                        out = op.infer(ins, quiet)
                        entry = computed[key] = [out, _counted(out, type(op).weighted), 0]
                    by_id[same] = entry
                else:
                    out = op.infer(ins, ctx)  # a derivation is recorded afresh for each layer
                    entry = [out, _counted(out, type(op).weighted), 0]  # counted in ``own``
            except ShapeError as exc:
                if train_only and mode == "eval":
                    # PyTorch does not run an auxiliary head in eval mode, so a head that does not
                    # fit this input is no error: it is left out, and said so, not counted as zero.
                    skipped[name] = str(exc)
                    continue
                raise _located(exc, node, ins) from None
        out, counts = entry[0], entry[1]
        shape = out.shape
        shapes[i] = shape
        before, before_at = name, i
        rule = out.rf
        note = None
        if len(names) == 1 and layer_trace is None:
            # The usual layers, untraced: apply's answers without building its arguments.
            rf: RF | None = fields[source]
            if rule is ELEMENTWISE:  # an activation, a normalisation: the input's field
                if rf is not None and len(rf) != len(shape.dims):
                    rf = None
            elif type(rule) is Windows:  # a convolution, a pooling
                rf = through_windows(rf, rule.axes)
            else:
                rf, note = apply(rule, [rf], [shapes[source].dims], shape.dims)
        elif isinstance(op, Input):
            rf = input_rf(shape.rank, layer_trace)
        else:
            assert ins is not None  # made above for a layer with several inputs, or a traced one
            in_fields = [fields[source]] if len(names) == 1 else [fields[j] for j in sources]
            rf, note = apply(rule, in_fields, [s.dims for s in ins], shape.dims, layer_trace)
        fields[i] = rf
        warnings = out.warnings if note is None else (*out.warnings, note)
        if i == first_at and graph.notes:
            warnings = (*warnings, *graph.notes)
        if train_only and mode == "eval" and counts.macs:
            macs = counts.macs
            warnings = (*warnings, f"runs only in training: its {macs:,} MACs are not counted in eval mode")
            if layer_trace is not None:
                layer_trace.step("macs", "0 in eval mode", "0", 0, note="the layer runs only in training")
            # MACs + bias adds, with no MACs in this mode (an op's own count of links is kept)
            connections = counts.extras.get("bias", 0) if out.connections is None else counts.connections
            counts = replace(counts, macs=0, connections=connections)
        if layer_trace is not None:
            _explain_counts(layer_trace, out, counts.macs, counts.connections)
            own.append(counts)
        elif counts is entry[1]:
            entry[2] += 1
        else:
            own.append(counts)
        append(LayerResult(node, counts, rf, warnings))
        if counts.uncounted:
            not_counted.append(name)
    uses = [(c, n) for _, c, n in computed.values()]
    uses += [(c, 1) for c in own]
    return Report(
        model=graph.name or "network",
        convention=conv,
        inputs=tuple(n.op.shape for n in inputs),  # type: ignore[attr-defined]
        layers=tuple(results),
        totals=_totals(uses, not_counted, DTYPES[dtype], tuple(skipped)),
        skipped=tuple(skipped.items()),
        graph=graph,
        dtype=dtype,
    )


def _located(exc: ShapeError, node: Node, ins: Sequence[Shape]) -> ShapeError:
    """A layer's shape error with its line, its name and, unless it says them, its input shapes."""
    where = f"line {node.line}: " if node.line else ""
    message = str(exc)
    got = ", ".join(str(s) for s in ins)
    if got and not all(str(s) in message for s in ins):
        message += f" [input {got}]"
    return ShapeError(f"{where}{node.name}: {message}", layer=node.name, line=node.line)


def _counted(out: Out, weighted: bool) -> Counts:
    """A layer's counts from its op's :class:`Out`: the same for every layer with this op and
    these inputs."""
    uncounted = out.uncounted
    connections = out.connections
    if connections is None:
        connections = out.macs + out.extras.get("bias", 0)
        if "macs" in uncounted:
            uncounted = (*uncounted, "connections")
    trainable = out.params if out.trainable is None else out.trainable
    return Counts(out.shape, out.shape.numel, out.params, out.buffers, out.macs, out.extras, trainable,
                  connections, uncounted, weighted)


def _explain_counts(trace: Trace, out: Out, macs: int, connections: int) -> None:
    """The steps every layer shares: neurons, and the counts its op left at their defaults."""
    shape = out.shape
    names = ("features",) if shape.rank == 0 else ("C", *shape.axis_names())
    if not any(s.quantity in ("shape", *names) or s.quantity.startswith("dim ") for s in trace.steps):
        trace.note("shape", f"{shape}: this layer kind records no derivation of its shape")
    trace.step("neurons", " * ".join(names) if len(names) > 1 else names[0],
               " * ".join(map(str, shape.dims)), shape.numel, note="the output elements per sample")
    done = {step.quantity for step in trace.steps}
    for quantity, value in (("params", out.params), ("buffers", out.buffers), ("macs", macs)):
        if quantity not in done and not value and quantity not in out.uncounted:
            trace.step(quantity, "0", "0", 0, note={
                "params": "no weights", "buffers": "no running statistics", "macs": "no weighted sums",
            }[quantity])
    if "connections" not in done:
        bias = out.extras.get("bias", 0)
        if bias:
            trace.step("connections", "MACs + bias adds", f"{fmt_num(macs)} + {fmt_num(bias)}", connections,
                       note="each weight a unit multiplies, plus its bias (LeNet-5's count)")
        elif macs:
            trace.step("connections", "MACs", fmt_num(macs), connections,
                       note="each weight a unit multiplies (no bias)")
        elif "macs" not in out.uncounted:
            trace.step("connections", "0", "0", connections,
                       note="the layer adds no links between units")


def _totals(uses: Iterable[tuple[Counts, int]], not_counted: list[str], nbytes: int,
            left_out: tuple[str, ...] = ()) -> Totals:
    """The totals from each distinct Counts and how many layers have it."""
    params = trainable = buffers = neurons = activations = macs = connections = 0
    for c, n in uses:
        params += n * c.params
        trainable += n * c.trainable
        buffers += n * c.buffers
        activations += n * c.neurons
        macs += n * c.macs
        connections += n * c.connections
        if c.weighted:
            neurons += n * c.neurons
    return Totals(
        params=params,
        trainable_params=trainable,
        buffers=buffers,
        neurons=neurons,
        activations=activations,
        macs=macs,
        flops=2 * macs,
        activation_bytes=activations * nbytes,
        param_bytes=params * nbytes,
        connections=connections,
        not_counted=(*not_counted, *left_out),
    )
