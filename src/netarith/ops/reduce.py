"""Reductions over some axes of each sample: ``reduce mean 2 3``, ``reduce sum -1 keep``.

Dims are PyTorch's with the batch as dim 0 (``x.mean([2, 3])`` on an ``N x C x H x W``
tensor is ``reduce mean 2 3``, giving ``C`` per sample). No parameters, no MACs
(MACs are conv, linear and matmul products). Extra recorded for the counting
presets: ``reduce`` (elements read).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import DROP, Collapse
from ..shape import Shape
from .base import Context, Op, Out, TorchEmit, arg, register
from .reshape import sample_axis

__all__ = ["Reduce"]

_OPS = ("mean", "sum", "amax", "amin", "prod", "std", "var", "norm", "logsumexp")


@register
@frozen(kw_only=True)
class Reduce(Op):
    """Reduce axes of each sample. ``reduce mean 2 3`` (global average, dropping H and W),
    ``reduce amax -1 keep``."""

    kind = "reduce"
    family = "reduce"
    summary = "reduction over axes (mean, sum, amax, ...)"

    dims: tuple[int, ...] = arg("ints", positional=True, aliases=("dim",),
                                help="PyTorch dims to reduce (batch is 0)")
    op: str = arg("choice", "mean", choices=_OPS, flags={o: o for o in _OPS})
    keep: bool = arg("bool", False, flags={"keep": True}, aliases=("keepdim",),
                     help="keep the reduced axes with size 1")

    def check(self) -> None:
        if not self.dims or len(set(self.dims)) != len(self.dims):
            raise SpecError(f"reduce: 'dims' must name distinct axes: {self.dims}")

    def _axes(self, x: Shape) -> tuple[int, ...]:
        axes = tuple(sorted(sample_axis("reduce", d, x) for d in self.dims))
        if len(set(axes)) != len(axes):
            raise ShapeError(f"reduce: dims {self.dims} name the same axis of {x} twice")
        return axes

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        axes = self._axes(x)
        if self.keep:
            dims = tuple(1 if i in axes else d for i, d in enumerate(x.dims))
        else:
            dims = tuple(d for i, d in enumerate(x.dims) if i not in axes)
            if not dims:
                raise ShapeError(f"reduce {self.op} over every axis of {x} leaves a scalar per sample; add keep")
        if ctx.trace is not None:
            kept = "kept as 1" if self.keep else "dropped"
            ctx.trace.step("shape", f"the input with the reduced axes {kept}",
                           f"{x}, axes {' '.join(map(str, self.dims))}", str(Shape(dims)))
        return Out(Shape(dims), extras={"reduce": x.numel}, rf=Collapse(axes) if self.keep else DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        dims = ", ".join(str(d) for d in self.dims)
        return TorchEmit(None, f"torch.{self.op}({{0}}, dim=({dims},), keepdim={self.keep})")
