"""Moving data without arithmetic: ``flatten``, ``reshape``, ``permute``, ``identity``,
and taking parts: ``slice``, ``select``, ``index``, ``expand``.

Dims in arguments are PyTorch's, with the batch as dim 0 (``flatten`` is
``nn.Flatten()``: start 1, end -1; ``permute 0 2 3 1`` moves channels last).
``reshape`` takes the per-sample shape, one axis may be -1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ShapeError, SpecError
from ..receptive import DROP, ELEMENTWISE, Remap
from ..shape import Shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Expand", "Flatten", "Identity", "Index", "Permute", "Reshape", "Select", "Slice", "sample_axis"]


def sample_axis(kind: str, dim: int, x: Shape) -> int:
    """A PyTorch dim (batch = 0) as an index into the per-sample dims."""
    n = len(x.dims) + 1
    full = dim + n if dim < 0 else dim
    if not 1 <= full < n:
        raise ShapeError(
            f"{kind} dim {dim} is out of range for {x} (dims 1..{n - 1}; the batch, dim 0, stays)"
        )
    return full - 1


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Flatten(Op):
    """Merge axes into one (``nn.Flatten``: all per-sample axes). ``flatten``, ``flatten start=2``."""

    kind = "flatten"
    family = "reshape"
    summary = "flatten axes into one"

    start: int = arg("int", 1, aliases=("start_dim",), min=-64)
    end: int = arg("int", -1, aliases=("end_dim",), min=-64)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        a = sample_axis("flatten", self.start, x)
        b = sample_axis("flatten", self.end, x)
        if a > b:
            raise ShapeError(f"flatten start {self.start} comes after end {self.end} for {x}")
        dims = (*x.dims[:a], math.prod(x.dims[a : b + 1]), *x.dims[b + 1 :])
        order: tuple[int | None, ...] = (
            *range(a), None if b > a else a, *range(b + 1, len(x.dims))
        )
        return Out(Shape(dims), rf=Remap(order))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Flatten({self.start}, {self.end})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Reshape(Op):
    """Reshape each sample (``view``). ``reshape 64x49``, ``reshape -1``."""

    kind = "reshape"
    aliases = ("view",)
    family = "reshape"
    summary = "reshape each sample"

    shape: tuple[int, ...] = arg("ints", positional=True, help="per-sample shape, one -1 allowed")

    def check(self) -> None:
        if not self.shape:
            raise SpecError("reshape: 'shape' needs at least one axis")
        if sum(1 for d in self.shape if d == -1) > 1 or any(d == 0 or d < -1 for d in self.shape):
            raise SpecError(f"reshape: 'shape' takes positive sizes and at most one -1: {self.shape}")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        known = math.prod(d for d in self.shape if d != -1)
        if -1 in self.shape:
            if x.numel % known:
                raise ShapeError(f"cannot reshape {x} ({x.numel:,} elements) to {_fmt(self.shape)}")
            dims = tuple(x.numel // known if d == -1 else d for d in self.shape)
        else:
            dims = self.shape
        if math.prod(dims) != x.numel:
            raise ShapeError(
                f"cannot reshape {x} ({x.numel:,} elements) to {_fmt(self.shape)} "
                f"({math.prod(dims):,} elements)"
            )
        out = Shape(dims)
        return Out(out, rf=ELEMENTWISE if out == x else DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"{{0}}.reshape({{0}}.shape[0], {', '.join(map(str, out.dims))})")


def _fmt(dims: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in dims)


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Permute(Op):
    """Reorder axes, PyTorch dims with the batch first. ``permute 0 2 3 1``."""

    kind = "permute"
    family = "reshape"
    summary = "reorder axes"

    order: tuple[int, ...] = arg("ints", positional=True, aliases=("dims",))

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        n = len(x.dims) + 1
        if sorted(self.order) != list(range(n)) or self.order[0] != 0:
            raise ShapeError(
                f"permute {' '.join(map(str, self.order))} must reorder dims 0..{n - 1} of "
                f"{x} (with the batch) and keep the batch, dim 0, first"
            )
        src = tuple(d - 1 for d in self.order[1:])
        return Out(Shape(tuple(x.dims[i] for i in src)), rf=Remap(src))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"{{0}}.permute({', '.join(map(str, self.order))})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Identity(Op):
    """Passes its input on unchanged. ``identity``."""

    kind = "identity"
    aliases = ("noop",)
    family = "reshape"
    summary = "identity"

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        return Out(ins[0])

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit("nn.Identity()")


def _index_expr(axis: int, item: str) -> str:
    """``{0}[:, :, item]``: index the per-sample ``axis`` of a batched tensor."""
    return "{0}[" + ", ".join([":"] * (axis + 1) + [item]) + "]"


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Slice(Op):
    """A range along one axis, Python's ``start:end:step``. ``slice dim=2 start=0 end=7``,
    ``slice dim=-2 step=2`` (every other row)."""

    kind = "slice"
    aliases = ("narrow",)
    family = "reshape"
    summary = "a range along one axis"

    dim: int = arg("int", min=-64, help="PyTorch dim (batch is 0)")
    start: int = arg("int", 0, min=-(2**62))
    end: int | None = arg("int", None, min=-(2**62), help="None: to the end")
    step: int = arg("int", 1)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        axis = sample_axis("slice", self.dim, x)
        # Python's own rule for clipping start and end (negative values count from the end).
        size = len(range(*slice(self.start, self.end, self.step).indices(x.dims[axis])))
        if size < 1:
            raise ShapeError(
                f"slice {self.start}:{'' if self.end is None else self.end}:{self.step} of axis "
                f"{self.dim} ({x.dims[axis]} long) in {x} is empty"
            )
        dims = tuple(size if i == axis else d for i, d in enumerate(x.dims))
        return Out(Shape(dims), rf=ELEMENTWISE if axis == 0 else DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        axis = sample_axis("slice", self.dim, ins[0])
        end = "" if self.end is None else str(self.end)
        return TorchEmit(None, _index_expr(axis, f"{self.start}:{end}:{self.step}"))


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Select(Op):
    """One position along an axis, which disappears. ``select dim=1 index=0`` (ViT's class token)."""

    kind = "select"
    family = "reshape"
    summary = "one position along an axis (the axis is removed)"

    dim: int = arg("int", min=-64, help="PyTorch dim (batch is 0)")
    index: int = arg("int", 0, min=-(2**62))

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        axis = sample_axis("select", self.dim, x)
        size = x.dims[axis]
        if not -size <= self.index < size:
            raise ShapeError(f"select index {self.index} is out of range for axis {self.dim} of {x} ({size} long)")
        dims = x.dims[:axis] + x.dims[axis + 1:]
        if not dims:
            raise ShapeError(f"select on {x} leaves a scalar per sample")
        return Out(Shape(dims), rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, _index_expr(sample_axis("select", self.dim, ins[0]), str(self.index)))


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Index(Op):
    """Look up positions along one axis by an integer tensor (the second input):
    ``table[index]``. The output has the index's axes in place of that axis.
    ``index dim=1 table idx``."""

    kind = "index"
    aliases = ("gather", "take", "embedding_lookup")
    family = "reshape"
    summary = "positions looked up by an integer tensor"
    arity = (2, 2)

    dim: int = arg("int", 1, min=-64, help="PyTorch dim (batch is 0)")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x, idx = ins
        axis = sample_axis("index", self.dim, x)
        return Out(Shape(x.dims[:axis] + idx.dims + x.dims[axis + 1:]), rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        axis = sample_axis("index", self.dim, ins[0])
        return TorchEmit(None, _index_expr(axis, "{1}"))


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Expand(Op):
    """Broadcast to a larger per-sample shape without copying (axes of size 1 grow;
    missing leading axes are added). ``expand 64x7x7``."""

    kind = "expand"
    aliases = ("broadcast_to",)
    family = "reshape"
    summary = "broadcast to a larger shape"

    shape: Shape = arg("shape", positional=True, help="per-sample target shape")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        target = self.shape.dims
        if len(x.dims) > len(target) or any(
            d not in (1, t) for d, t in zip(reversed(x.dims), reversed(target))
        ):
            raise ShapeError(f"cannot expand {x} to {self.shape}: each axis must match or be 1")
        return Out(self.shape, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        dims = ", ".join(map(str, self.shape.dims))
        return TorchEmit(None, f"{{0}}.expand({{0}}.shape[0], {dims})")
