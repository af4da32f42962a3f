"""Turning a recorded forward pass into netarith nodes.

The model is recorded at batch 2 and at batch 3 (see ``_torch_trace``). For every tensor, the axis
whose size changes between the two holds the batch; dividing it out gives the
per-sample shape netarith works with (the axis disappears when it held only the
batch, as in ``N x C x H x W``, and stays when the batch is folded into it, as in
Swin's ``(N * windows) x 49 x C``). A tensor whose shape does not change is a
constant (a parameter, a buffer, a table built in ``forward``).

Each event becomes a node whose op recomputes the recorded per-sample shape;
where no op fits, or the op disagrees with PyTorch, the node is ``opaque``: its
shape is PyTorch's and its cost is marked not counted, never zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .._values import frozen, replace
from ..errors import NetarithError, ShapeError, SourceError
from ..graph import Node
from ..ops.base import Op, make
from ..shape import Shape
from ._torch_modules import CHANNELS_FIRST, Inferred, module_op, origin
from ._torch_trace import Call, Event, Module, Ref, Source, Trace, readable

__all__ = ["Converter", "Handler", "Unsupported", "Val", "per_sample"]


@frozen
class Val:
    """A tensor as netarith sees it."""

    node: str  # the node that makes it ("" for a parameter or constant not yet made a node)
    shape: Shape  # per sample
    full: tuple[int, ...]  # the full shape at batch 2
    batch: int | None  # the full tensor's axis holding the batch; None for a constant
    dropped: bool  # that axis held only the batch and is left out of ``shape``
    source: Source | None = None

    def nd(self, dim: int) -> int | None:
        """netarith's dim (PyTorch's with the batch as 0) for a dim of the full tensor."""
        rank = len(self.full)
        if not -rank <= dim < max(rank, 1):
            return None
        negative = dim < 0
        dim %= max(rank, 1)
        if self.batch is not None and self.dropped and dim == self.batch:
            return None
        after_batch = self.batch is None or not self.dropped or dim > self.batch
        if negative and after_batch:
            return dim - rank  # counted from the end, as the model wrote it
        if self.batch is None or not self.dropped:
            return dim + 1
        return dim + (1 if dim < self.batch else 0)

    def axis(self, dim: int) -> int | None:
        """The per-sample axis of a dim of the full tensor (None: the batch)."""
        nd = self.nd(dim)
        if nd is None:
            return None
        return nd - 1 if nd > 0 else len(self.shape.dims) + nd

    def made_by(self, node: str) -> Val:
        """This value, made by ``node`` (``replace(self, node=node)``, at a third of its cost)."""
        return Val(node, self.shape, self.full, self.batch, self.dropped, self.source)

    @property
    def plain(self) -> bool:
        """Batch first and alone: ``N x C x ...`` (what conv and pooling need)."""
        return self.batch == 0 and self.dropped


class Unsupported(Exception):
    """This call cannot be expressed with netarith's ops (the node becomes opaque)."""


def per_sample(s2: tuple[int, ...], s3: tuple[int, ...]) -> tuple[Shape, int | None, bool]:
    """The per-sample shape of a tensor seen at batch 2 and at batch 3."""
    if len(s2) != len(s3):
        raise SourceError(f"a tensor has {len(s2)} axes at batch 2 but {len(s3)} at batch 3")
    diff = [i for i, (a, b) in enumerate(zip(s2, s3)) if a != b]
    if not diff:
        return _shape(s2), None, False
    j = diff[0]
    if len(diff) > 1 or s2[j] % 2 or s3[j] % 3 or s2[j] // 2 != s3[j] // 3:
        raise SourceError(f"a tensor's shape {s2} (batch 2) vs {s3} (batch 3) is not a multiple of the batch")
    q = s2[j] // 2
    dims = s2[:j] + s2[j + 1:] if q == 1 else (*s2[:j], q, *s2[j + 1:])
    return _shape(dims), j, q == 1


def _shape(dims: tuple[int, ...]) -> Shape:
    if any(d < 1 for d in dims):
        raise SourceError(f"netarith cannot represent an empty tensor (shape {dims})")
    return Shape(dims or (1,))


#: makes the nodes of one call: (converter, call, expected outputs, API name) -> outputs
Handler = Callable[["Converter", Call, list[Val], str], list[Val]]


class Converter:
    """Builds the nodes of a graph from the events of a trace (at batch 2 and 3)."""

    def __init__(self, handlers: dict[Any, tuple[str, Handler]], infer: Inferred | None = None) -> None:
        self.handlers = handlers
        self.nodes: list[Node] = []
        self.names: set[str] = set()
        # (event, index) of each output -> its Val: keyed by plain tuples, whose hash and
        # equality are C's (a Ref's are Python's, and a trace has thousands of lookups)
        self.vals: dict[tuple[int, int], Val] = {}
        self.named: dict[str, list[Val]] = {}  # event name -> outputs, for the training pass
        self.used: set[str] = set()  # sources made into nodes or read by a layer
        self.train_only = False
        self.infer = infer if infer is not None else Inferred()
        self.ctx = self.infer.ctx
        self.notes: list[str] = []
        self.seen: dict[tuple[tuple[int, ...], tuple[int, ...]], Val] = {}

    # -- driving -----------------------------------------------------------
    def run(self, t: Trace, keep: Callable[[Event], bool] | None = None) -> None:
        """Nodes for the events of ``t`` (each with its outputs' shapes at batch 2 and 3)."""
        self.vals = {}  # Refs number the events of this trace only
        for i, e in enumerate(t.events):
            outs = [self.expected(a, b) for a, b in zip(e.outputs, e.outputs3)]
            if keep is not None and not keep(e):
                made = self.named.get(e.name, [])
            else:
                made = self.convert(e, outs, i)
                self.named.setdefault(e.name, made)
            for k, val in enumerate(made):
                self.vals[i, k] = val

    def expected(self, s2: tuple[int, ...], s3: tuple[int, ...]) -> Val:
        """The Val of an output seen as ``s2`` at batch 2 and ``s3`` at batch 3 (one for
        each pair of shapes: most tensors of a network share theirs with others)."""
        val = self.seen.get((s2, s3))
        if val is None:
            shape, batch, dropped = per_sample(s2, s3)
            val = self.seen[s2, s3] = Val("", shape, s2, batch, dropped)
        return val

    def convert(self, e: Event, outs: list[Val], i: int) -> list[Val]:
        if isinstance(e, Source):
            if e.role == "input":
                self.add(e.name, make("input", shape=outs[0].shape), [], None)
                return [replace(outs[0], node=e.name)]
            return [replace(outs[0], source=e)]
        if isinstance(e, Module):
            return [self.module(e, outs)]
        assert isinstance(e, Call)
        args = [self.val(r) for r in _refs(e.args, e.kwargs)]
        name, handler = self.handlers.get(e.func, (readable(e.func), _opaque_call))
        if e.operator:
            name = _OPERATORS.get(e.operator, name)
        try:
            return handler(self, e, outs, name)
        except (Unsupported, NetarithError, TypeError, ValueError, IndexError) as exc:
            self.notes.append(f"{e.name}: {exc}")
            return self.opaque(e, name, args, outs)

    # -- values and nodes ----------------------------------------------------
    def val(self, ref: Ref) -> Val:
        try:
            return self.vals[ref.event, ref.index]
        except KeyError:
            raise SourceError(f"internal: no value for {ref}") from None

    def made(self, ref: Ref) -> Val | None:
        """The Val of ``ref`` if its event was converted."""
        return self.vals.get((ref.event, ref.index))

    def arg(self, value: Any) -> Any:
        """Refs in a (nested) argument replaced by Vals."""
        if isinstance(value, Ref):
            return self.val(value)
        if isinstance(value, list):
            return [self.arg(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.arg(v) for v in value)
        return value

    def unique(self, base: str) -> str:
        base = _valid(base)
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        return name

    def add(self, name: str, op: Op, inputs: Sequence[Val], origin: str | None) -> str:
        name = self.unique(name)
        self.names.add(name)
        self.nodes.append(Node(name, op, tuple([v.node for v in inputs]), self.train_only, None, origin))
        return name

    def node(self, v: Val, rank: int | None = None) -> Val:
        """``v`` made into a node (a parameter becomes a ``tensor``), with ``rank`` axes if given."""
        if not v.node:
            assert v.source is not None
            shape = _aligned(v.shape, rank) if rank is not None else v.shape
            role = v.source.role if v.source.path not in self.used else "constant"
            self.used.add(v.source.path or v.source.name)
            name = self.add(v.source.name, make("tensor", shape=shape, role=role), [], "tensor")
            return replace(v, node=name, shape=shape, source=None)
        if rank is None or len(v.shape.dims) == rank:
            return v
        if v.batch is not None:
            raise Unsupported(f"{v.node}: {v.shape} does not broadcast per sample")
        shape = _aligned(v.shape, rank)
        name = self.add(f"{v.node}@{rank}d", make("reshape", shape=shape.dims), [v], None)
        return replace(v, node=name, shape=shape)

    def fresh(self, v: Any) -> bool:
        """A parameter no node has counted yet (a layer may take it as its own)."""
        return isinstance(v, Val) and not v.node and v.source is not None and \
            v.source.role == "learned" and v.source.path not in self.used

    def take(self, *vals: Any) -> None:
        """Mark parameters as counted by the layer just made."""
        for v in vals:
            if isinstance(v, Val) and v.source is not None:
                self.used.add(v.source.path)


    def emit(self, name: str, op: Op, inputs: Sequence[Val], out: Val, origin: str | None,
             params: int | None = None) -> Val:
        """A node for ``op``; its shape must be PyTorch's, and its parameters ``params`` if given
        (the elements of the weights the call takes as its own)."""
        ins = [self.node(v) for v in inputs]
        got = self.infer(op, [v.shape for v in ins])
        if got.shape != out.shape:
            raise Unsupported(f"netarith's {op.kind} gives {got.shape}, PyTorch {out.shape}")
        if params is not None and got.params != params:
            raise Unsupported(f"netarith's {op.kind} counts {got.params} parameters, the call takes {params}")
        return out.made_by(self.add(name, op, ins, origin))

    def opaque(self, e: Call, what: str, args: Sequence[Val], outs: list[Val]) -> list[Val]:
        ins = [self.node(v) for v in args if v.node or v.source is not None]
        ins = [v for v in ins if v.node]
        made = []
        for k, out in enumerate(outs):
            name = e.name if len(outs) == 1 else f"{e.name}[{k}]"
            # Parameters it reads became tensor nodes above, so its own are known: none.
            op = make("opaque", op=_word(what), shape=out.shape, params=0)
            made.append(replace(out, node=self.add(name, op, ins, f"function:{what}")))
        return made

    # -- modules ---------------------------------------------------------------
    def module(self, e: Module, outs: list[Val]) -> Val:
        assert e.module is not None
        x = self.val(e.inputs[0])
        out = outs[0]
        # the op made when the module was read whole is the one for an input with the batch first and alone
        op = e.op if e.op is not None and x.plain else module_op(e.module, x.shape, x.nd)
        where = origin(e.module)
        try:
            if op is None or len(outs) != 1 or (op.kind in CHANNELS_FIRST and not x.plain):
                raise Unsupported(f"{type(e.module).__name__} on {x.full}")
            return self.emit(e.name, op, [x], out, where)
        except ShapeError as exc:
            # The meta device does not check everything PyTorch checks when it computes.
            raise ShapeError(f"{e.name}: {exc} [input {x.shape}]") from None
        except (Unsupported, NetarithError) as exc:
            self.notes.append(f"{e.name}: {exc}")
            params = sum(p.numel() for p in e.module.parameters())
            op = make("opaque", op=_word(type(e.module).__name__), shape=out.shape, params=params)
            ins = [self.node(self.val(r)) for r in e.inputs]
            return replace(out, node=self.add(e.name, op, ins, where))


def _aligned(shape: Shape, rank: int) -> Shape:
    """A constant's shape right-aligned to ``rank`` axes, as broadcasting reads it."""
    dims = shape.dims
    while len(dims) > rank and dims[0] == 1:
        dims = dims[1:]
    if len(dims) > rank:
        raise Unsupported(f"a constant of shape {shape} does not broadcast to {rank} axes per sample")
    return Shape((1,) * (rank - len(dims)) + dims)


def _refs(args: Any, kwargs: Any) -> list[Ref]:
    found: list[Ref] = []

    def walk(v: Any) -> None:
        if isinstance(v, Ref):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)

    walk(args)
    walk(kwargs)
    return found


_VALID = re.compile(r"[A-Za-z_/][A-Za-z0-9_.\-/\[\]@+]*")

#: how an operator shows as a PyTorch API (ptflops counts ``x.add(y)`` but not ``x + y``)
_OPERATORS = {"+": "Tensor.__add__", "+=": "Tensor.__iadd__", "*": "Tensor.__mul__", "*=": "Tensor.__imul__",
              "-": "Tensor.__sub__", "-=": "Tensor.__isub__", "/": "Tensor.__truediv__",
              "/=": "Tensor.__itruediv__", "@": "Tensor.__matmul__", "**": "Tensor.__pow__"}


def _valid(name: str) -> str:
    """A node name from a module path: ``0.conv`` (a Sequential's child) becomes ``_0.conv``."""
    if _VALID.fullmatch(name):  # most names are already (a subset of what the rule below keeps)
        return name
    name = "".join(ch if ch.isalnum() or ch in "_.-/[]@+" else "_" for ch in name) or "_"
    return name if name[0].isalpha() or name[0] in "_/" else f"_{name}"


def _word(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in text) or "op"


def _opaque_call(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    raise Unsupported(f"netarith has no rule for {readable(e.func)}")


def numel(*vals: Any) -> int:
    """Elements of the learned tensors among ``vals`` (what a layer taking them counts)."""
    return sum(v.shape.numel for v in vals if isinstance(v, Val) and v.source is not None
               and v.source.role == "learned")
