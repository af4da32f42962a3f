"""Where tensors come from: the network ``input`` (``input 3x224x224``: channels, then
0 to 3 spatial sizes) and a ``tensor`` the network holds rather than computes (a position
embedding added to the tokens, a class token, a constant)."""

from __future__ import annotations

from collections.abc import Sequence

from .._values import frozen
from ..receptive import DROP
from ..shape import Shape
from ..sizerules import Fixed, SizeRule
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Input", "Tensor"]


@register
@frozen(kw_only=True)
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


_ROLES = ("learned", "buffer", "constant")


@register
@frozen(kw_only=True)
class Tensor(Op):
    """A tensor the network holds: a learned parameter used directly (ViT's class token
    and position embedding), a buffer, or a constant made during the forward pass.
    ``tensor 197x768 learned``, ``tensor 49x49 buffer``, ``tensor 7x7``.

    A learned tensor's elements are parameters, a buffer's are buffers; a constant
    counts as neither. Its shape is written as it combines with the per-sample
    tensors (the batch axis, if any, left out).
    """

    kind = "tensor"
    aliases = ("parameter", "constant")
    family = "input"
    summary = "a tensor the network holds (parameter, buffer or constant)"
    arity = (0, 0)

    shape: Shape = arg("shape", positional=True)
    role: str = arg("choice", "constant", choices=_ROLES, flags={r: r for r in _ROLES},
                    help="learned (parameters), buffer, or constant")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        n = self.shape.numel
        if ctx.trace is not None:
            ctx.trace.step("shape", "the shape it is declared with", str(self.shape), str(self.shape))
            if self.role != "constant":
                ctx.trace.step("params" if self.role == "learned" else "buffers", "numel(shape)",
                               "*".join(map(str, self.shape.dims)), n)
        return Out(
            self.shape,
            params=n if self.role == "learned" else 0,
            buffers=n if self.role == "buffer" else 0,
            rf=DROP,
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        dims = ", ".join(str(d) for d in (1, *self.shape.dims))  # a batch axis of 1: broadcasts
        if self.role == "learned":
            return TorchEmit(f"nn.Parameter(torch.zeros({dims}))", "{m}")
        return TorchEmit(None, f"torch.zeros({dims})")
