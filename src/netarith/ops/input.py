"""Where tensors come from: the network ``input``, and ``param``, a learned tensor used as
it is (a position embedding added to the tokens, a class token)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..receptive import DROP
from ..shape import Shape
from ..sizerules import Fixed, SizeRule
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Input", "Param"]


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


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Param(Op):
    """A tensor of weights used directly, shared by every sample (PyTorch's ``nn.Parameter``
    used in ``forward``): ``param 197x768``; ``param 64x1x1 buffer`` for a fixed tensor
    (a registered buffer), counted as buffers, not parameters."""

    kind = "param"
    aliases = ("parameter", "weight")
    family = "input"
    summary = "a learned tensor used directly"
    arity = (0, 0)

    shape: Shape = arg("shape", positional=True, help="its shape (without a batch axis)")
    buffer: bool = arg("bool", False, flags={"buffer": True},
                       help="a fixed tensor (buffer) rather than a learned parameter")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        n = self.shape.numel
        if ctx.trace is not None:
            ctx.trace.step("shape", "the shape it is declared with", str(self.shape), str(self.shape))
            ctx.trace.step("buffers" if self.buffer else "params", "numel(shape)",
                           "*".join(map(str, self.shape.dims)), n)
        if self.buffer:
            return Out(self.shape, buffers=n, rf=DROP)
        return Out(self.shape, params=n, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        dims = ", ".join(str(d) for d in (1, *self.shape.dims))
        if self.buffer:
            return TorchEmit(None, f"torch.zeros({dims})")
        return TorchEmit(f"nn.Parameter(torch.zeros({dims}))", "{m}")
