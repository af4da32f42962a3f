"""Merging branches: ``add``, ``sub``, ``mul``, ``div``, ``max`` (with PyTorch broadcasting)
and ``concat``; and ``scalar``, elementwise arithmetic with a constant number.

Inputs are named: ``add a b``, ``concat b1 b2 b3``; ``add a`` adds the previous
layer and ``a``. Broadcasting follows PyTorch, per sample: each axis must match
or be 1 in one input (a squeeze-excite ``mul`` of 32x14x14 by 32x1x1).

Extras recorded for the counting presets: ``add``, ``sub``, ``mul``, ``div``, ``max``
and ``elementwise`` (elementwise operations).

``elementwise op=NAME`` stands for any other elementwise function of one or
more tensors (``exp``, ``masked_fill``...): what an importer reads from a
framework. Elementwise functions have no parameters and no MACs (MACs are conv,
linear and matmul products).

Connections: each output of an elementwise merge is linked to one value of each
input, fixed links: ``inputs * numel(out)``. ``concat`` only regroups units,
so it adds none.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import ELEMENTWISE, Collapse
from ..shape import Shape
from ..sizerules import Broadcast, Same, SizeRule, Total
from ..trace import fmt_num
from ._steps import dim_names, same_shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Add", "Concat", "Div", "Elementwise", "Max", "Mul", "Scalar", "Sub", "broadcast"]


def broadcast(kind: str, ins: Sequence[Shape]) -> Shape:
    """The PyTorch broadcast of per-sample shapes (equal ranks: the batch axis is shared)."""
    first = ins[0]
    if all(x == first for x in ins[1:]):  # the usual case (a residual add): nothing to broadcast
        return first
    for other in ins[1:]:
        if len(other.dims) != len(first.dims):
            raise ShapeError(
                f"cannot {kind} {first} and {other}: they have different ranks; "
                "PyTorch would broadcast across the batch axis"
            )
    dims = []
    for axis in range(len(first.dims)):
        sizes = {x.dims[axis] for x in ins} - {1}
        if len(sizes) > 1:
            shapes = " and ".join(str(x) for x in ins)
            raise ShapeError(
                f"cannot {kind} {shapes}: axis {axis} has sizes {sorted(sizes)}, "
                "which neither match nor are 1"
            )
        dims.append(sizes.pop() if sizes else 1)
    return Shape(tuple(dims))


class _Elementwise(Op):
    __slots__ = ()
    family = "merge"
    arity = (2, None)
    _symbol = "+"

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        out = broadcast(self.kind, ins)
        links = len(ins) * out.numel
        if ctx.trace is not None:
            ctx.trace.step("shape", "the inputs' common shape (each axis equal, or 1 and broadcast)",
                           " and ".join(str(x) for x in ins), str(out))
            ctx.trace.step("connections", "inputs * numel(out)", f"{len(ins)} * {fmt_num(out.numel)}", links,
                           note="each output reads one value of each input, fixed links")
        return Out(out, extras={self.kind: out.numel * (len(ins) - 1)}, connections=links,
                   sizes=SizeRule(tuple(Broadcast(n) for n in range(len(out.dims)))))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f" {self._symbol} ".join(f"{{{i}}}" for i in range(len(ins))))


def _nested_max(count: int) -> str:
    """torch.maximum takes two tensors: nest it for more."""
    call = "{0}"
    for i in range(1, count):
        call = f"torch.maximum({call}, {{{i}}})"
    return call


@register
@frozen(kw_only=True)
class Add(_Elementwise):
    """Elementwise sum of two or more branches. ``add a b``."""

    kind = "add"
    aliases = ("sum", "eltwise")
    summary = "elementwise sum"


@register
@frozen(kw_only=True)
class Mul(_Elementwise):
    """Elementwise product, broadcasting (squeeze-excite). ``mul x gate``."""

    kind = "mul"
    aliases = ("multiply", "prod")
    summary = "elementwise product"
    _symbol = "*"


@register
@frozen(kw_only=True)
class Sub(_Elementwise):
    """The first branch minus the others. ``sub a b``."""

    kind = "sub"
    aliases = ("subtract",)
    summary = "elementwise difference"
    _symbol = "-"


@register
@frozen(kw_only=True)
class Div(_Elementwise):
    """The first branch divided by the others. ``div a b``."""

    kind = "div"
    aliases = ("divide",)
    summary = "elementwise quotient"
    _symbol = "/"


@register
@frozen(kw_only=True)
class Max(_Elementwise):
    """Elementwise maximum of two or more branches (Caffe's Eltwise MAX, ONNX Max). ``max a b``."""

    kind = "max"
    aliases = ("maximum", "eltmax")
    summary = "elementwise maximum"

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, _nested_max(len(ins)))


_SCALAR_OPS = {
    # op: (PyTorch expression, the extra it counts as)
    "add": ("{0} + {v}", "add"),
    "sub": ("{0} - {v}", "add"),
    "rsub": ("{v} - {0}", "add"),
    "mul": ("{0} * {v}", "mul"),
    "div": ("{0} / {v}", "mul"),
    "rdiv": ("{v} / {0}", "mul"),
    "pow": ("{0} ** {v}", "mul"),
}


@register
@frozen(kw_only=True)
class Scalar(Op):
    """Elementwise arithmetic with a constant number: ``scalar mul 0.5``, ``scalar add 3``,
    ``scalar rdiv 1`` (1 / x). No parameters: a constant is not learned."""

    kind = "scalar"
    family = "merge"
    summary = "elementwise arithmetic with a constant"

    op: str = arg("choice", choices=tuple(_SCALAR_OPS), flags={k: k for k in _SCALAR_OPS},
                  help="add, sub, rsub (value - x), mul, div, rdiv (value / x) or pow")
    value: float = arg("float", positional=True, help="the constant")

    def check(self) -> None:
        if self.value == 0 and self.op in ("div",):
            raise SpecError("scalar: dividing by the constant 0")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        same_shape(ctx.trace, x, f"elementwise {self.op} with a constant")
        return Out(x, extras={_SCALAR_OPS[self.op][1]: x.numel})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, _SCALAR_OPS[self.op][0].replace("{v}", repr(float(self.value))))


@register
@frozen(kw_only=True)
class Elementwise(_Elementwise):
    """Any other elementwise function, broadcasting like ``add``. ``elementwise op=exp``,
    ``elementwise op=sub a b``."""

    kind = "elementwise"
    aliases = ("pointwise",)
    summary = "another elementwise function (named by op)"
    arity = (1, None)

    op: str = arg("str", help="the function's name (exp, sub, div, masked_fill, ...)")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        out = broadcast(f"apply {self.op} to", ins) if len(ins) > 1 else ins[0]
        if ctx.trace is not None:
            ctx.trace.step("shape", "the inputs' common shape (each axis equal, or 1 and broadcast)",
                           " and ".join(str(x) for x in ins), str(out))
        return Out(out, extras={"elementwise": out.numel})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        args = ", ".join(f"{{{i}}}" for i in range(len(ins)))
        return TorchEmit(None, f"torch.{self.op}({args})")


@register
@frozen(kw_only=True)
class Concat(Op):
    """Concatenation along the channels (PyTorch dim 1) or another dim. ``concat a b c``."""

    kind = "concat"
    aliases = ("cat", "concatenate")
    family = "merge"
    summary = "concatenation"
    arity = (1, None)

    dim: int = arg("int", 1, aliases=("axis",), min=-64, help="PyTorch dim (batch is 0)")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        first = ins[0]
        rank = len(first.dims)
        axis = self.dim - 1 if self.dim > 0 else rank + self.dim
        if not 0 <= axis < rank:
            raise ShapeError(f"concat dim {self.dim} is out of range for {first} (batch is dim 0)")
        # The dims off the axis, compared as one tuple (a DenseNet block concatenates dozens).
        rest = first.dims[:axis] + first.dims[axis + 1:]
        for x in ins[1:]:
            if len(x.dims) != rank or x.dims[:axis] + x.dims[axis + 1:] != rest:
                what = "spatial sizes" if axis == 0 else "sizes off the concat axis"
                listing = ", ".join(str(s) for s in ins)
                raise ShapeError(f"concat inputs differ in {what}: {listing}")
        total = sum(x.dims[axis] for x in ins)
        dims = list(first.dims)
        dims[axis] = total
        out = Shape(tuple(dims))
        if ctx.trace is not None:
            for n, name in enumerate(dim_names(out)):
                if n == axis:
                    ctx.trace.step(name, f"the sum of the inputs' {name}",
                                   " + ".join(str(x.dims[axis]) for x in ins), total)
                else:
                    ctx.trace.step(name, f"{name} of every input (they must agree)", str(out.dims[n]), out.dims[n])
        rf = ELEMENTWISE if axis == 0 else Collapse((axis,))
        rules = tuple(Total(n) if n == axis else Same(n) for n in range(rank))
        return Out(out, rf=rf, sizes=SizeRule(rules))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"torch.cat({{all}}, dim={self.dim})")
