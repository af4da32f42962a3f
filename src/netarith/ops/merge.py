"""Merging branches: ``add``, ``mul`` (with PyTorch broadcasting) and ``concat``.

Inputs are named: ``add a b``, ``concat b1 b2 b3``; ``add a`` adds the previous
layer and ``a``. Broadcasting follows PyTorch, per sample: each axis must match
or be 1 in one input (a squeeze-excite ``mul`` of 32x14x14 by 32x1x1).

``elementwise op=NAME`` stands for any other elementwise function of one or
more tensors (``exp``, ``sub``, ``div``, ``masked_fill``...): what an importer
reads from a framework. Elementwise functions have no parameters and no MACs
(MACs are conv, linear and matmul products).

Extras recorded for the counting presets: ``add``, ``mul`` and ``elementwise``
(elementwise operations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ShapeError
from ..receptive import ELEMENTWISE, Collapse
from ..shape import Shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Add", "Concat", "Elementwise", "Mul", "broadcast"]


def broadcast(kind: str, ins: Sequence[Shape]) -> Shape:
    """The PyTorch broadcast of per-sample shapes (equal ranks: the batch axis is shared)."""
    first = ins[0]
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
        return Out(out, extras={self.kind: out.numel * (len(ins) - 1)})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f" {self._symbol} ".join(f"{{{i}}}" for i in range(len(ins))))


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Add(_Elementwise):
    """Elementwise sum of two or more branches. ``add a b``."""

    kind = "add"
    aliases = ("sum", "eltwise")
    summary = "elementwise sum"


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Mul(_Elementwise):
    """Elementwise product, broadcasting (squeeze-excite). ``mul x gate``."""

    kind = "mul"
    aliases = ("multiply", "prod")
    summary = "elementwise product"
    _symbol = "*"


@register
@dataclass(frozen=True, kw_only=True, slots=True)
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
        return Out(out, extras={"elementwise": out.numel})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        args = ", ".join(f"{{{i}}}" for i in range(len(ins)))
        return TorchEmit(None, f"torch.{self.op}({args})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
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
        for x in ins[1:]:
            if len(x.dims) != rank or any(
                a != b for i, (a, b) in enumerate(zip(x.dims, first.dims)) if i != axis
            ):
                what = "spatial sizes" if axis == 0 else "sizes off the concat axis"
                listing = ", ".join(str(s) for s in ins)
                raise ShapeError(f"concat inputs differ in {what}: {listing}")
        total = sum(x.dims[axis] for x in ins)
        dims = list(first.dims)
        dims[axis] = total
        rf = ELEMENTWISE if axis == 0 else Collapse((axis,))
        return Out(Shape(tuple(dims)), rf=rf)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"torch.cat({{all}}, dim={self.dim})")
