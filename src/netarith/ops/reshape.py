"""Moving data without arithmetic: ``flatten``, ``reshape``, ``permute``, ``identity``,
``shuffle`` (channel shuffle); and taking parts: ``chunk`` (one piece of ``torch.chunk``),
``slice``, ``select``, ``index``, ``expand``.

Dims in arguments are PyTorch's, with the batch as dim 0 (``flatten`` is
``nn.Flatten()``: start 1, end -1; ``permute 0 2 3 1`` moves channels last).
``reshape`` takes the per-sample shape, one axis may be -1. None of them adds
connections: they regroup units without computing anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import DROP, ELEMENTWISE, Remap, Windows
from ..shape import Shape
from ..sizerules import DimRule, Fixed, Keep, Product, Quotient, SizeRule
from ._steps import dim_names, same_shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = [
    "ChannelShuffle", "Chunk", "Expand", "Flatten", "Identity", "Index", "Permute", "Reshape", "Select",
    "Slice", "sample_axis",
]


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
@frozen(kw_only=True)
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
        out = Shape(dims)
        if ctx.trace is not None:
            names = dim_names(x)
            for name, (n, size) in zip(dim_names(out), enumerate(dims)):
                if n == a:
                    merged = names[a : b + 1]
                    ctx.trace.step(name, " * ".join(merged) + (" (flattened)" if b > a else ""),
                                   " * ".join(str(v) for v in x.dims[a : b + 1]), size)
                else:
                    src = names[n if n < a else n + b - a]
                    ctx.trace.step(name, f"{src} of the input", str(size), size)
        rules: tuple[DimRule, ...] = (*(Keep(n) for n in range(a)), Product(tuple(range(a, b + 1))),
                 *(Keep(n) for n in range(b + 1, len(x.dims))))
        return Out(out, rf=Remap(order), sizes=SizeRule(rules))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Flatten({self.start}, {self.end})")


@register
@frozen(kw_only=True)
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
        if ctx.trace is not None:
            if -1 in self.shape:
                ctx.trace.step("shape", "numel(in) / (product of the given sizes) fills the -1",
                               f"{x.numel:,} / {known:,} = {x.numel // known:,}", str(out))
            else:
                ctx.trace.step("shape", "the given shape (same number of elements)", _fmt(dims), str(out))
        rules: tuple[DimRule, ...] = tuple(Quotient(known) if d == -1 else Fixed(d) for d in self.shape)
        numel = None if -1 in self.shape else math.prod(self.shape)
        return Out(out, rf=ELEMENTWISE if out == x else DROP, sizes=SizeRule(rules, numel=numel))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"{{0}}.reshape({{0}}.shape[0], {', '.join(map(str, out.dims))})")


def _fmt(dims: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in dims)


@register
@frozen(kw_only=True)
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
        out = Shape(tuple(x.dims[i] for i in src))
        if ctx.trace is not None:
            names = dim_names(x)
            for n, i in enumerate(src):
                ctx.trace.step(f"dim {n + 1}", f"{names[i]} of the input (dim {i + 1})", str(x.dims[i]), x.dims[i])
        return Out(out, rf=Remap(src), sizes=SizeRule(tuple(Keep(i) for i in src)))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"{{0}}.permute({', '.join(map(str, self.order))})")


@register
@frozen(kw_only=True)
class Identity(Op):
    """Passes its input on unchanged. ``identity``."""

    kind = "identity"
    aliases = ("noop",)
    family = "reshape"
    summary = "identity"

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        same_shape(ctx.trace, ins[0], "identity")
        return Out(ins[0])

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit("nn.Identity()")


@register
@frozen(kw_only=True)
class ChannelShuffle(Op):
    """Interleave the channels of ``groups`` groups (ShuffleNet, ``nn.ChannelShuffle``). ``shuffle 2``.

    Channel ``g * (C/groups) + i`` moves to ``i * groups + g``: a reshape to
    ``groups x C/groups``, a transpose and a flatten (Zhang et al., ShuffleNet, 2018,
    section 3.1). Nothing is computed or learned; positions stay where they are.
    """

    kind = "shuffle"
    aliases = ("channelshuffle", "channel_shuffle")
    family = "reshape"
    summary = "channel shuffle"

    groups: int = arg("int", positional=True, short="g", help="number of channel groups")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.channels % self.groups:
            raise ShapeError(
                f"shuffle: {self.groups} groups do not divide the {x.channels} channels of {x}"
            )
        same_shape(ctx.trace, x, f"{self.groups} groups of channels interleaved")
        return Out(x)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # The reshape-transpose form rather than nn.ChannelShuffle, which torch cannot export to ONNX.
        return TorchEmit(None, f"{{0}}.unflatten(1, ({self.groups}, -1)).transpose(1, 2).flatten(1, 2)")


def _index_expr(axis: int, item: str) -> str:
    """``{0}[:, :, item]``: index the per-sample ``axis`` of a batched tensor."""
    return "{0}[" + ", ".join([":"] * (axis + 1) + [item]) + "]"


@register
@frozen(kw_only=True)
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
        if ctx.trace is not None:
            end = x.dims[axis] if self.end is None else self.end
            ctx.trace.step("shape", f"axis {self.dim} becomes len(range(start, end, step)) clipped to its size",
                           f"{x}: len(range({self.start}, {end}, {self.step})) of {x.dims[axis]}",
                           str(Shape(dims)))
        return Out(Shape(dims), rf=ELEMENTWISE if axis == 0 else DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        axis = sample_axis("slice", self.dim, ins[0])
        end = "" if self.end is None else str(self.end)
        return TorchEmit(None, _index_expr(axis, f"{self.start}:{end}:{self.step}"))


@register
@frozen(kw_only=True)
class Chunk(Op):
    """Piece ``index`` of ``torch.chunk(x, chunks, dim)``. ``chunk 2 i1`` (the second half
    of the channels), ``chunk 3 i0 dim=2``.

    As PyTorch: every piece has ``ceil(size / chunks)`` entries except the last,
    which keeps the rest; when the pieces run out early there are fewer than
    ``chunks`` of them, and asking for a missing one is an error.
    """

    kind = "chunk"
    family = "reshape"
    summary = "one piece of torch.chunk"

    chunks: int = arg("int", positional=True, help="how many pieces the axis is cut into")
    index: int = arg("int", 0, short="i", min=0, help="which piece (0 = the first)")
    dim: int = arg("int", 1, min=-64, help="PyTorch dim (batch is 0)")

    def _axis(self, x: Shape) -> int:
        return sample_axis("chunk", self.dim, x)

    def _bounds(self, x: Shape) -> tuple[int, int, int]:
        """(axis, first entry, entries) of the piece, as torch.chunk cuts it."""
        axis = self._axis(x)
        size = x.dims[axis]
        piece = -(-size // self.chunks)  # ceil: torch.chunk's piece size
        start = self.index * piece
        if start >= size:
            pieces = -(-size // piece)
            raise ShapeError(
                f"chunk: an axis of {size} cut into pieces of {piece} gives {pieces} piece(s), "
                f"so there is no piece {self.index} (count from 0)"
            )
        return axis, start, min(piece, size - start)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        axis, start, length = self._bounds(x)
        dims = list(x.dims)
        dims[axis] = length
        if ctx.trace is not None:
            size = x.dims[axis]
            for n, name in enumerate(dim_names(x)):
                if n == axis:
                    ctx.trace.step(name, "min(ceil(size/chunks), size - index*ceil(size/chunks))",
                                   f"min(ceil({size}/{self.chunks}), {size} - {self.index}*ceil({size}/{self.chunks}))",
                                   length)
                else:
                    ctx.trace.step(name, f"{name} of the input", str(x.dims[n]), x.dims[n])
        if axis == 0:
            return Out(Shape(tuple(dims)))
        # A crop of a spatial axis: a 1-wide window whose first output sits at `start`.
        windows = tuple((1, 1, -start if a == axis - 1 else 0) for a in range(x.rank))
        return Out(Shape(tuple(dims)), rf=Windows(windows))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, f"{{0}}.chunk({self.chunks}, dim={self.dim})[{self.index}]")


@register
@frozen(kw_only=True)
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
        if ctx.trace is not None:
            ctx.trace.step("shape", f"the input without axis {self.dim} (one position taken)", str(x),
                           str(Shape(dims)))
        return Out(Shape(dims), rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, _index_expr(sample_axis("select", self.dim, ins[0]), str(self.index)))


@register
@frozen(kw_only=True)
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
        out = Shape(x.dims[:axis] + idx.dims + x.dims[axis + 1:])
        if ctx.trace is not None:
            ctx.trace.step("shape", f"axis {self.dim} of the table replaced by the index's axes",
                           f"{x} indexed by {idx}", str(out))
        return Out(out, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        axis = sample_axis("index", self.dim, ins[0])
        return TorchEmit(None, _index_expr(axis, "{1}"))


@register
@frozen(kw_only=True)
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
        if ctx.trace is not None:
            ctx.trace.step("shape", "the shape it is expanded to (axes of size 1 grow)", f"{x} to {self.shape}",
                           str(self.shape))
        return Out(self.shape, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        dims = ", ".join(map(str, self.shape.dims))
        return TorchEmit(None, f"{{0}}.expand({{0}}.shape[0], {dims})")
