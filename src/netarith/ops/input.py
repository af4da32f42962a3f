"""The network input: ``input 3x224x224`` (channels, then 0 to 3 spatial sizes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..shape import Shape
from ..sizerules import Fixed, SizeRule
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Input"]


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Input(Op):
    """A network input of a given per-sample shape. ``input 3x224x224``."""

    kind = "input"
    aliases = ("data",)
    family = "input"
    summary = "network input"
    arity = (0, 0)

    shape: Shape = arg("shape", positional=True)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        if ctx.trace is not None:
            ctx.trace.step("shape", "given (channels, then the spatial sizes)", str(self.shape), str(self.shape))
        return Out(self.shape, sizes=SizeRule(tuple(Fixed(d) for d in self.shape.dims)))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, "")
