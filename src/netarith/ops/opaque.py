"""A layer netarith has no rule for: its shape is known, its cost is not counted.

Importers produce it for an operation they can read but not count (a custom op,
say): the table and the JSON mark it "not counted", and the totals say they are
lower bounds. It is never silently a zero. ``opaque op=my_op shape=64x7x7``;
``given=64x14x14`` records the input size that shape holds for (another is an error).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import DROP
from ..shape import Shape
from ..sizerules import Fixed, SizeRule
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Opaque"]

_QUANTITIES = ("params", "macs")


@register
@frozen(kw_only=True)
class Opaque(Op):
    """An operation with a known output shape and uncounted cost."""

    kind = "opaque"
    aliases = ("unknown", "custom")
    family = "opaque"
    summary = "an operation netarith cannot count"
    arity = (0, None)

    op: str = arg("str", help="what the operation is called where it came from")
    shape: Shape = arg("shape", help="its per-sample output shape")
    params: int | None = arg("int", None, min=0, help="its parameters, if known")
    macs: int | None = arg("int", None, min=0, help="its multiply-accumulates, if known")
    given: Shape | None = arg("shape", None, help="the input shape its output shape was read for")

    def check(self) -> None:
        if self.params is not None and self.macs is not None:
            raise SpecError(f"opaque {self.op}: with params and macs both known, use a real layer kind")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        if self.given is not None and ins and ins[0] != self.given:
            # Its shape came from elsewhere (a file's shape inference) for one input size.
            raise ShapeError(
                f"opaque {self.op}: its output shape {self.shape} was read for the input {self.given}, "
                f"not {ins[0]}; read the model again at the new input size"
            )
        missing = tuple(q for q in _QUANTITIES if getattr(self, q) is None)
        if ctx.trace is not None:
            ctx.trace.step("shape", f"given by the source ({self.op})", str(self.shape), str(self.shape))
            for q in _QUANTITIES:
                value = getattr(self, q)
                if value is not None:
                    ctx.trace.step(q, f"given by the source ({self.op})", str(value), value)
        return Out(
            self.shape,
            params=self.params or 0,
            macs=self.macs or 0,
            warnings=(f"{self.op}: netarith has no rule for it; its {' and '.join(missing)} are not counted",),
            rf=DROP,
            uncounted=missing,
            sizes=SizeRule(tuple(Fixed(d) for d in self.shape.dims)),
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        raise SpecError(f"opaque {self.op}: no PyTorch equivalent is known")
