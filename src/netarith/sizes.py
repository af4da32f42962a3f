"""Which input sizes a network accepts: closed forms, the smallest input, the exact ones.

Every op reports, next to the shape it computed, how each output dim follows
from its inputs' dims (``sizerules.py``). Composed through the network they give
each layer's size as a closed form of the input size (``closedform.py``): with
floor rounding, a 227-style AlexNet's ``pool5`` is ``floor((H - 35)/32)``.

From the same rules:

* ``min_input``: the smallest input for which every layer is valid (each window
  fits, merged branches agree), per spatial axis, the other axes at the model's
  default size. Thresholds come from bisection on the closed forms; the answer
  is then confirmed by running the layers themselves at it (and one pixel below).
* ``exact_inputs``: the sizes in a range where no strided window drops an input
  pixel (floor) or reaches past the input (ceil); each window is counted by
  ``arith.window_count``, the function the analysis uses.
* the exact sizes nearest to the model's default input.

Only the first input varies; in eval mode (the default) training-only layers
(auxiliary heads) do not limit the input, as in PyTorch's ``eval()``.

>>> s = sizes("3x227x227 | conv 96 k11 s4 | maxpool k3 s2 | conv 256 k5 p2 | maxpool k3 s2"
...           " | conv 384 k3 p1 | maxpool k3 s2", range=(1, 300))
>>> s.layers[-1].dims[1], s.layers[-1].dims[1].value({"H": 227, "W": 227})
(Aff(inner=Var(name='H'), mul=1, add=-35, div=32), 6)
>>> s.min_input, 227 in s.exact_inputs["H"], 224 in s.exact_inputs["H"]
((67, 67), True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from itertools import pairwise

from ._values import field, frozen
from .arith import same_padding, window_count
from .closedform import Const, Expr, NoClosedForm, Prod, Unknown, Var, affine, minimum, product, total
from .conventions import Convention, get_convention
from .deadline import check as check_deadline
from .errors import NetarithError, ShapeError, SpecError
from .graph import Graph, Node
from .ops.base import Context, Out
from .ops.input import Input
from .shape import Shape
from .sizerules import (
    Broadcast,
    DimRule,
    Fixed,
    Keep,
    Padded,
    Product,
    Quotient,
    Same,
    SameWindow,
    Scaled,
    Total,
    TransposedWindow,
    Window,
)

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .sources import Source

__all__ = ["Check", "LayerForm", "Probe", "SizeModel", "Sizes", "size_model", "sizes"]

#: The largest input size the searches consider.
SEARCH_LIMIT = 1 << 16
#: The most sizes one listing or search walks through (each is a check of every layer), so that a
#: huge input (10^6 pixels a side) or a huge range answers in seconds instead of hours.
MAX_SPAN = 1 << 16


@frozen
class Check:
    """A condition on the input size for one layer to be valid."""

    layer: str
    kind: str  # "at_least", "equal", "broadcast", "divides", "numel"
    exprs: tuple[Expr, ...]
    bound: int
    what: str
    train_only: bool = False

    def holds(self, env: Mapping[str, int]) -> bool:
        values = [e.value(env) for e in self.exprs]
        if self.kind == "at_least":
            return values[0] >= self.bound
        if self.kind == "equal":
            return len(set(values)) == 1
        if self.kind == "broadcast":
            return len(set(values) - {1}) <= 1
        if self.kind == "divides":
            return values[0] % self.bound == 0
        return values[0] == self.bound  # numel

    @property
    def monotone(self) -> bool:
        """An ``at_least`` on one variable without products: true from some size on."""
        return self.kind == "at_least" and len(self.exprs[0].variables()) == 1 and not _has_prod(self.exprs[0])

    def describe(self, env: Mapping[str, int] | None = None) -> str:
        text = f"{self.layer}: {self.what}"
        if env is not None:
            text += f" ({', '.join(str(e.value(env)) for e in self.exprs)} here)"
        return text


@frozen
class Probe:
    """A strided window: at some input sizes it drops or invents pixels."""

    layer: str
    axis: str
    size: Expr  # the window's input size along its axis
    rule: Window | SameWindow
    train_only: bool = False

    def count(self, env: Mapping[str, int]) -> tuple[int, int]:
        """(pixels dropped, pixels reached past the input) at this input size."""
        i = self.size.value(env)
        r = self.rule
        if isinstance(r, SameWindow):
            before, after = same_padding(i, r.kernel, r.stride, r.dilation, "tensorflow")
            c = window_count(i, r.kernel, r.stride, before, after, r.dilation, "floor", "none")
        else:
            c = window_count(i, r.kernel, r.stride, r.pad_before, r.pad_after, r.dilation, r.rounding, r.clip)
        return c.lost, c.overhang


@frozen
class LayerForm:
    """One layer's output dims as closed forms of the input size."""

    name: str
    kind: str
    dims: tuple[Expr, ...]
    names: tuple[str, ...]
    shape: Shape  # at the default input
    train_only: bool = False

    def forms(self) -> dict[str, str]:
        return {n: str(e) for n, e in zip(self.names, self.dims)}


@frozen(slots=False)
class SizeModel:
    """A network's sizes as closed forms, with what makes an input valid and exact."""

    graph: Graph
    convention: Convention
    input_name: str
    variables: tuple[str, ...]
    default: Mapping[str, int]
    layers: tuple[LayerForm, ...]
    checks: tuple[Check, ...]
    probes: tuple[Probe, ...]
    mode: str = "eval"

    @cached_property
    def closed(self) -> bool:
        """Every layer has a closed form (else answers come from running the layers)."""
        return all(e.known for layer in self.active_layers for e in layer.dims) and all(
            e.known for c in self.active_checks for e in c.exprs)

    @cached_property
    def active_layers(self) -> tuple[LayerForm, ...]:
        return tuple(x for x in self.layers if self.mode == "train" or not x.train_only)

    @cached_property
    def active_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if self.mode == "train" or not c.train_only)

    @cached_property
    def monotone(self) -> bool:
        """Every check holds from some size on: valid sizes are those above the minimum."""
        return all(c.monotone for c in self.active_checks)

    def env(self, **sizes: int) -> dict[str, int]:
        return {**self.default, **sizes}

    def failing(self, env: Mapping[str, int], axis: str | None = None) -> Check | None:
        """The first check that fails at ``env`` (None: every layer is valid); with ``axis``,
        only the checks on that axis."""
        for check in self.active_checks:
            if axis is not None and not all(axis in e.variables() for e in check.exprs):
                continue
            if not check.holds(env):
                return check
        return None

    def inexact(self, env: Mapping[str, int], axis: str | None = None) -> list[tuple[Probe, int, int]]:
        """The windows that drop or invent pixels at ``env`` (along ``axis``, if given)."""
        found = []
        for probe in self.probes:
            if probe.train_only and self.mode == "eval":
                continue
            if axis is not None and axis not in probe.size.variables():
                continue
            lost, over = probe.count(env)
            if lost or over:
                found.append((probe, lost, over))
        return found

    def shape_at(self, env: Mapping[str, int]) -> Shape:
        base = self.graph[self.input_name].op.shape  # type: ignore[attr-defined]
        return Shape((base.channels, *(env[v] for v in self.variables)))


@frozen(slots=False)
class Sizes:
    """What ``netarith sizes`` reports."""

    model: SizeModel
    min_input: tuple[int, ...]
    limits: Mapping[str, str]  # axis -> what stops a smaller input
    exact_inputs: Mapping[str, tuple[int, ...]]
    range: tuple[int, int]
    nearest_exact: Mapping[str, tuple[int | None, int | None]]
    default_inexact: Mapping[str, tuple[str, ...]]  # axis -> why the default is not exact
    method: str  # "closed form" or "running the layers"
    min_input_train: tuple[int, ...] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def layers(self) -> tuple[LayerForm, ...]:
        return self.model.layers

    def to_dict(self) -> dict[str, Any]:
        m = self.model
        return {
            "model": m.graph.name or "network",
            "convention": m.convention.name,
            "input": list(m.shape_at(m.default).dims),
            "axes": list(m.variables),
            "mode": m.mode,
            "min_input": list(self.min_input),
            "min_input_limits": dict(self.limits),
            **({"min_input_train": list(self.min_input_train)} if self.min_input_train else {}),
            "range": list(self.range),
            "exact_inputs": {a: list(v) for a, v in self.exact_inputs.items()},
            "nearest_exact": {a: {"below": lo, "above": hi} for a, (lo, hi) in self.nearest_exact.items()},
            "default_inexact": {a: list(v) for a, v in self.default_inexact.items()},
            "closed_form": {x.name: x.forms() for x in m.layers},
            "method": self.method,
            "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------- building


def size_model(graph: Graph, convention: str | Convention | None = None, mode: str = "eval") -> SizeModel:
    """Closed forms and validity checks of ``graph``, from its ops' size rules.

    The rules are read by running the layers once at the model's input, or, if a
    layer refuses it (a training-only head in train mode), at the first multiple of
    it that every layer accepts: the rules do not depend on the size.
    """
    if mode not in ("eval", "train"):
        raise SpecError(f"mode must be 'eval' or 'train': {mode!r}")
    conv = get_convention(convention if convention is not None else graph.convention)
    inputs = graph.inputs
    if not inputs:
        raise NetarithError("the network has no input: add a line like 'input 3x224x224'")
    first = inputs[0]
    base: Shape = first.op.shape  # type: ignore[attr-defined]
    if base.rank == 0:
        raise NetarithError(f"the input {base} has no spatial axes: there is no input size to vary")
    error: ShapeError | None = None
    for scale in (1, 2, 4, 8, 16, 32, 64):
        probe = base.with_spatial(tuple(scale * d for d in base.spatial))
        try:
            layers, checks, probes = _read_rules(graph.with_input(probe, first.name), first.name, conv, mode)
        except ShapeError as exc:
            error = error or exc
            continue
        default = dict(zip(base.axis_names(), base.spatial))
        return SizeModel(graph, conv, first.name, base.axis_names(), default, layers, checks, probes, mode)
    assert error is not None
    raise ShapeError(f"{error} (sizes starts from the model's input {base}; give one where the network is "
                     "valid with --input)") from None


def _read_rules(graph: Graph, first: str, conv: Convention, mode: str) -> tuple[
        tuple[LayerForm, ...], tuple[Check, ...], tuple[Probe, ...]]:
    ctx = Context(conv)
    base: Shape = graph[first].op.shape  # type: ignore[attr-defined]
    variables = base.axis_names()
    shapes: dict[str, Shape] = {}
    exprs: dict[str, tuple[Expr, ...]] = {}
    layers: list[LayerForm] = []
    checks: list[Check] = []
    probes: list[Probe] = []
    training: set[str] = set()
    for node in graph.nodes:
        check_deadline()
        if any(n not in shapes for n in node.inputs):
            continue  # fed by a skipped auxiliary head
        ins = [shapes[n] for n in node.inputs]
        train_only = node.train_only or bool(node.inputs and all(n in training for n in node.inputs))
        if train_only:
            training.add(node.name)
        try:
            out = node.op.infer(ins, ctx)
        except ShapeError as exc:
            if train_only and mode == "eval":
                continue  # an auxiliary head invalid at this size does not run in eval mode
            raise ShapeError(f"{node.name}: {exc}") from None
        shapes[node.name] = out.shape
        if node.name == first:
            dims: tuple[Expr, ...] = (Const(base.channels), *(Var(v) for v in variables))
        elif isinstance(node.op, Input):
            dims = tuple(Const(d) for d in out.shape.dims)
        else:
            dims = _compose(out, ins, [exprs[n] for n in node.inputs], node.name, train_only, checks, probes,
                            node, ctx)
        exprs[node.name] = dims
        layers.append(LayerForm(node.name, node.op.kind, dims, _dim_names(out.shape), out.shape, train_only))
    return tuple(layers), _distinct(checks), tuple(probes)


def _distinct(checks: list[Check]) -> tuple[Check, ...]:
    """One check per condition (the first layer that needs it names it); constant ones dropped,
    as the layers already accepted them."""
    seen: dict[tuple[object, ...], Check] = {}
    for c in checks:
        if all(not e.variables() and e.known for e in c.exprs):
            continue
        key = (c.kind, c.exprs, c.bound)
        kept = seen.get(key)
        if kept is None or (kept.train_only and not c.train_only):
            seen[key] = c
    return tuple(seen.values())


def _keeps_spatial(node: Node, ins: Sequence[Shape], out: Out, ctx: Context) -> bool:
    """An op without size rules that changes only the channels (a channel chunk): its spatial
    output equals its input at the model's size and at two others."""
    if len(ins) != 1 or out.shape.rank != ins[0].rank or out.shape.spatial != ins[0].spatial:
        return False
    x = ins[0]
    for grow in (1, 7):
        bigger = x.with_spatial(tuple(d + grow for d in x.spatial))
        try:
            if node.op.infer([bigger], ctx).shape != out.shape.with_spatial(bigger.spatial):
                return False
        except ShapeError:
            return False
    return True


def _dim_names(shape: Shape) -> tuple[str, ...]:
    return ("features",) if shape.rank == 0 else ("C", *shape.axis_names())


def _compose(out: Out, ins: Sequence[Shape], in_exprs: Sequence[tuple[Expr, ...]], name: str,
             train_only: bool, checks: list[Check], probes: list[Probe], node: Node, ctx: Context) -> tuple[Expr, ...]:
    rule = out.sizes
    if rule is None:
        if ins and out.shape == ins[0]:
            return in_exprs[0]
        if _keeps_spatial(node, ins, out, ctx):
            return (Const(out.shape.channels), *in_exprs[0][1:])
        return tuple(Unknown(f"{name} ({node.op.kind}) has no size rule") for _ in out.shape.dims)
    names = _dim_names(out.shape)
    dims = []
    for n, r in enumerate(rule.dims):
        expr, extra = _dim(r, in_exprs, names[n] if n < len(names) else f"dim {n + 1}", name)
        dims.append(expr)
        checks.extend(Check(c.layer, c.kind, c.exprs, c.bound, c.what, train_only) for c in extra)
        if isinstance(r, (Window, SameWindow)) and r.stride > 1 and expr.known:
            size = in_exprs[0][r.dim]
            if size.variables():
                probes.append(Probe(name, names[n], size, r, train_only))
    for src, dim, least in rule.at_least:
        checks.append(Check(name, "at_least", (in_exprs[src][dim],), least,
                            f"needs an input of at least {least} along its axis {dim}", train_only))
    if rule.numel is not None:
        checks.append(Check(name, "numel", (product(list(in_exprs[0])),), rule.numel,
                            f"needs exactly {rule.numel:,} input elements", train_only))
    return tuple(dims)


def _dim(r: DimRule, ins: Sequence[tuple[Expr, ...]], label: str, layer: str) -> tuple[Expr, list[Check]]:
    """One output dim as an expression, and the checks it brings."""
    if isinstance(r, Keep):
        return ins[r.src][r.dim], []
    if isinstance(r, Fixed):
        return Const(r.value), []
    if isinstance(r, Window):
        return _window(r, ins[0][r.dim], label, layer)
    if isinstance(r, SameWindow):
        return affine(ins[0][r.dim], 1, r.stride - 1, r.stride), []  # ceil(i/s)
    if isinstance(r, TransposedWindow):
        k_eff = r.dilation * (r.kernel - 1) + 1
        e = affine(ins[0][r.dim], r.stride, -r.stride - r.pad_before - r.pad_after + k_eff + r.output_padding)
        return e, [Check(layer, "at_least", (e,), 1, f"its output {label}, {e}, must be at least 1")]
    if isinstance(r, Scaled):
        e = affine(ins[0][r.dim], r.factor.numerator, 0, r.factor.denominator)
        return e, [Check(layer, "at_least", (e,), 1, f"its output {label}, {e}, must be at least 1")]
    if isinstance(r, Padded):
        return affine(ins[0][r.dim], 1, r.before + r.after), []
    if isinstance(r, Product):
        return product([ins[0][d] for d in r.dims]), []
    if isinstance(r, Quotient):
        numel = product(list(ins[0]))
        return affine(numel, 1, 0, r.known), [
            Check(layer, "divides", (numel,), r.known, f"its input's elements must be a multiple of {r.known}")]
    if isinstance(r, Total):
        return total([x[r.dim] for x in ins]), []
    if isinstance(r, Same):
        parts = tuple(x[r.dim] for x in ins)
        return parts[0], ([] if len(set(parts)) == 1 else [
            Check(layer, "equal", parts, 0, f"its inputs' {label} ({', '.join(map(str, parts))}) must agree")])
    if isinstance(r, Broadcast):
        parts = tuple(x[r.dim] for x in ins)
        varying = [p for p in parts if p != Const(1)]
        if len(set(varying)) <= 1:
            return (varying[0] if varying else Const(1)), []
        return varying[0], [Check(layer, "broadcast", parts, 0,
                                  f"its inputs' {label} ({', '.join(map(str, parts))}) must agree or be 1")]
    raise TypeError(f"unknown size rule {r!r}")  # pragma: no cover


def _window(r: Window, size: Expr, label: str, layer: str) -> tuple[Expr, list[Check]]:
    """``arith.window_count`` as a closed form (see that function for the rules)."""
    k_eff = r.dilation * (r.kernel - 1) + 1
    s = r.stride
    pads = r.pad_before + r.pad_after
    if r.rounding == "floor":
        e = affine(size, 1, pads - k_eff + s, s)  # floor((i + pads - k_eff)/s) + 1
    else:
        e = affine(size, 1, pads - k_eff + 2 * s - 1, s)  # ceil((i + pads - k_eff)/s) + 1
        if r.clip == "pytorch" or (r.clip == "caffe" and pads > 0):
            if r.pad_after > k_eff:  # the one-step clip is then not a min; no closed form
                e = Unknown(f"{layer}: a ceil-mode window with more end padding than kernel")
            else:
                # the last window must start before i + pl: o <= ceil((i + pl)/s)
                e = minimum(e, affine(size, 1, r.pad_before + s - 1, s))
    return e, [Check(layer, "at_least", (e,), 1, f"its output {label}, {e}, must be at least 1")]


def _has_prod(e: Expr) -> bool:
    if isinstance(e, Prod):
        return True
    inner = getattr(e, "inner", None)
    terms = getattr(e, "terms", ())
    return (inner is not None and _has_prod(inner)) or any(_has_prod(t) for t in terms)


# ----------------------------------------------------------------------------- answers


def sizes(
    source: Source,
    input: str | Shape | Sequence[int] | None = None,
    convention: str | Convention | None = None,
    range: tuple[int, int] | None = None,
    mode: str = "eval",
) -> Sizes:
    """Closed forms, smallest input, exact inputs in ``range`` (default 1 to twice the input)."""
    from .sources import load

    graph = load(source)
    if input is not None:
        graph = graph.with_input(input)
    model = size_model(graph, convention, mode)
    lo, hi = range if range is not None else _default_range(max(model.default.values()))
    if not 1 <= lo <= hi:
        raise SpecError(f"the range must be LO:HI with 1 <= LO <= HI: {lo}:{hi}")
    if hi - lo + 1 > MAX_SPAN:
        raise SpecError(f"the range {lo}:{hi} holds {hi - lo + 1:,} sizes; at most {MAX_SPAN:,} are searched "
                        f"at once (e.g. {lo}:{lo + MAX_SPAN - 1})")
    minimum_, limits, method = min_input(model)
    exact: dict[str, tuple[int, ...]] = {}
    nearest: dict[str, tuple[int | None, int | None]] = {}
    why: dict[str, tuple[str, ...]] = {}
    for v in model.variables:
        exact[v] = tuple(n for n in _span(lo, hi) if exact_at(model, v, n, minimum_))
        nearest[v] = _nearest(model, v, minimum_)
        problems = model.inexact(model.env(), v)
        why[v] = tuple(_inexact_text(p, lost, over) for p, lost, over in problems)
    train = None
    if mode == "eval" and any(c.train_only for c in model.checks):
        train_min, _, _ = min_input(size_model(graph, convention, "train"))
        train = train_min if train_min != minimum_ else None
    notes = []
    if len(graph.inputs) > 1:
        notes.append(f"only the first input ({model.input_name}) varies; the others keep their sizes")
    if not model.closed:
        notes.append("some layers have no closed form; their sizes were found by running the layers")
    return Sizes(model, minimum_, limits, exact, (lo, hi), nearest, why, method, train, tuple(notes))


def _default_range(default: int) -> tuple[int, int]:
    """1 to twice the input; for a huge input, the MAX_SPAN sizes around it."""
    if 2 * default <= MAX_SPAN:
        return 1, 2 * default
    lo = max(1, default - MAX_SPAN // 2)
    return lo, lo + MAX_SPAN - 1


def _span(lo: int, hi: int) -> Sequence[int]:
    import builtins

    return builtins.range(lo, hi + 1)


def exact_at(model: SizeModel, axis: str, n: int, smallest: Sequence[int] | None = None) -> bool:
    """Valid, and no strided window along ``axis`` drops or invents a pixel at size ``n``."""
    check_deadline()
    env = model.env(**{axis: n})
    try:
        if smallest is not None and model.monotone:
            if n < smallest[model.variables.index(axis)]:
                return False
        elif model.failing(env) is not None:
            return False
        return not model.inexact(env, axis)
    except NoClosedForm:
        return _real_exact(model, env)


def _real_exact(model: SizeModel, env: Mapping[str, int]) -> bool:
    from .analyze import analyze_graph

    try:
        report = analyze_graph(model.graph.with_input(model.shape_at(env), model.input_name),
                               convention=model.convention, mode=model.mode)
    except ShapeError:
        return False
    return not any("never reach" in w or "hangs" in w for _, w in report.warnings)


def _nearest(model: SizeModel, axis: str, smallest: Sequence[int]) -> tuple[int | None, int | None]:
    """The exact sizes nearest the default input: at or below it, and at or above it."""
    default = model.default[axis]
    floor_ = smallest[model.variables.index(axis)]
    below = next((n for n in _span(max(floor_, default - MAX_SPAN), default)[::-1]
                  if exact_at(model, axis, n, smallest)), None)
    above = next((n for n in _span(default, min(4 * default + 64, default + MAX_SPAN))
                  if exact_at(model, axis, n, smallest)), None)
    return below, above


def _inexact_text(probe: Probe, lost: int, over: int) -> str:
    if lost:
        return f"{probe.layer} drops {lost} pixel{'s' if lost != 1 else ''} along {probe.axis}"
    return f"{probe.layer} reaches {over} pixel{'s' if over != 1 else ''} past the input along {probe.axis}"


def min_input(model: SizeModel) -> tuple[tuple[int, ...], dict[str, str], str]:
    """The smallest valid size per axis (others at the default), what limits it, and how it was found."""
    if model.closed:
        found = _min_closed(model)
        if found is not None and _confirmed(model, found[0]):
            return found[0], found[1], "closed form"
    smallest = _min_running(model)
    limits = {v: "found by running the layers" for v in model.variables}
    return smallest, limits, "running the layers"


def _min_closed(model: SizeModel) -> tuple[tuple[int, ...], dict[str, str]] | None:
    result = []
    limits: dict[str, str] = {}
    for v in model.variables:
        best, limit = 1, "every layer is valid from 1"
        for check in model.active_checks:
            if not check.monotone or check.exprs[0].variables() != {v}:
                continue
            n = _bisect(lambda n, c=check, v=v: c.holds(model.env(**{v: n})))  # type: ignore[misc]
            if n is None:
                return None
            if n > best:
                best, limit = n, f"{check.describe()}: {v} >= {n}"
        n = best
        while model.failing(model.env(**{v: n}), v) is not None:
            n += 1
            if n > SEARCH_LIMIT:
                return None
        if n != best:
            failing = model.failing(model.env(**{v: n - 1}), v)
            limit = f"{failing.describe(model.env(**{v: n - 1}))} at {v} = {n - 1}" if failing else limit
        result.append(n)
        limits[v] = limit
    return tuple(result), limits


def _bisect(holds: Callable[[int], bool]) -> int | None:
    """The smallest n in 1..SEARCH_LIMIT where a monotone condition holds."""
    if not holds(SEARCH_LIMIT):
        return None
    lo, hi = 1, SEARCH_LIMIT
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _confirmed(model: SizeModel, smallest: tuple[int, ...]) -> bool:
    """The layers themselves accept ``smallest``, and refuse one pixel less on each axis."""
    env = dict(zip(model.variables, smallest))
    if _run(model, env) is not None:
        return False
    return all(n == 1 or _run(model, {**env, v: n - 1}) is not None for v, n in env.items())


def _min_running(model: SizeModel) -> tuple[int, ...]:
    """The smallest valid input found by running the layers: the first square size that
    works, then each axis lowered with the others there."""
    limit = min(4 * max(model.default.values()) + 64, SEARCH_LIMIT)
    square = next((n for n in _span(1, limit) if _run(model, dict.fromkeys(model.variables, n)) is None), None)
    if square is None:
        raise NetarithError(f"no input size up to {limit} makes every layer valid")
    found = []
    for v in model.variables:
        others = dict.fromkeys(model.variables, square)
        found.append(next(n for n in _span(1, square) if _run(model, {**others, v: n}) is None))
    return tuple(found)


def _run(model: SizeModel, env: Mapping[str, int]) -> str | None:
    """Run every layer's own arithmetic at ``env``: None if valid, else the error."""
    check_deadline()
    ctx = Context(model.convention)
    shapes: dict[str, Shape] = {}
    training: set[str] = set()
    graph = model.graph.with_input(model.shape_at(env), model.input_name)
    for node in graph.nodes:
        if any(n not in shapes for n in node.inputs):
            continue
        train_only = node.train_only or bool(node.inputs and all(n in training for n in node.inputs))
        if train_only:
            training.add(node.name)
        try:
            shapes[node.name] = node.op.infer([shapes[n] for n in node.inputs], ctx).shape
        except ShapeError as exc:
            if train_only and model.mode == "eval":
                continue
            return f"{node.name}: {exc}"
    return None


# ----------------------------------------------------------------------------- rendering


def render(result: Sizes, fmt: str = "text") -> str:
    """``netarith sizes`` as text or JSON."""
    import json

    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    if fmt != "text":
        raise SpecError(f"unknown format {fmt!r} (one of: text, json)")
    m = result.model
    axes = m.variables
    alike = _alike(m)
    cols = axes[:1] if alike else axes
    head = (f"{m.graph.name or 'network'}: each layer's size as a closed form of the input size "
            f"{', '.join(axes)} (convention {m.convention.name}, input {m.shape_at(m.default)})")
    at = "x".join(str(m.default[v]) for v in axes)
    rows = [("layer", "kind", *((f"{cols[0]} ({', '.join(axes[1:])} alike)",) if alike and len(axes) > 1 else cols),
             f"at {at}")]
    previous: dict[str, tuple[str, ...]] = {}
    for layer in m.layers:
        node = m.graph[layer.name]
        forms = layer.forms()
        spatial = tuple(forms.get(a, "") for a in cols)
        before = previous.get(node.inputs[0]) if node.inputs else None
        previous[layer.name] = spatial
        if any(spatial) and node.inputs and spatial != before:
            rows.append((layer.name, layer.kind, *spatial, "x".join(map(str, layer.shape.spatial))))
    flat = [x for x in m.layers if "features" in x.forms() and x.dims[0].variables()]
    for x in flat[:1]:
        rows.append((x.name, x.kind + " (features)", x.forms()["features"], *([""] * (len(cols) - 1)),
                     str(x.shape.dims[0])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [head, ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[:1]]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
    lines.append("(layers that keep their input's size are not listed; --format json has every layer)")
    lines.append("")
    mins = "x".join(map(str, result.min_input))
    lines.append(f"smallest input  {mins} ({result.method})")
    for a in (axes[:1] if alike else axes):
        lines.append(f"  {a}{' (and ' + ', '.join(axes[1:]) + ')' if alike and len(axes) > 1 else ''}: "
                     f"{result.limits[a]}")
    if result.min_input_train:
        lines.append(f"  with the training-only layers: {'x'.join(map(str, result.min_input_train))}")
    lo, hi = result.range
    for a in (axes[:1] if alike else axes):
        label = a + (f", {', '.join(axes[1:])}" if alike and len(axes) > 1 else "")
        lines.append(f"exact inputs    {label} in {lo}..{hi}: {_listing(result.exact_inputs[a])}")
    for a in (axes[:1] if alike else axes):
        below, above = result.nearest_exact[a]
        default = m.default[a]
        why = result.default_inexact[a]
        status = "exact" if not why else "not exact: " + "; ".join(why[:3]) + ("; ..." if len(why) > 3 else "")
        near = " and ".join(str(n) for n in dict.fromkeys(x for x in (below, above) if x is not None)) or "none"
        lines.append(f"nearest exact   {a}: {near} (the default {default} is {status})")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _alike(model: SizeModel) -> bool:
    """Every axis has the same closed forms, up to the variable's name."""
    axes = model.variables
    for layer in model.layers:
        forms = layer.forms()
        first = forms.get(axes[0])
        for a in axes[1:]:
            if first is not None and forms.get(a) != first.replace(axes[0], a):
                return False
    return len({model.default[a] for a in axes}) == 1


def _listing(values: Sequence[int]) -> str:
    if not values:
        return "none"
    if len(values) >= 4:
        steps = {b - a for a, b in pairwise(values)}
        if len(steps) == 1:
            return f"{values[0]}, {values[1]}, ..., {values[-1]} (every {steps.pop()}, {len(values)} sizes)"
    if len(values) > 24:
        return ", ".join(map(str, values[:24])) + f", ... ({len(values)} sizes)"
    return ", ".join(map(str, values))
