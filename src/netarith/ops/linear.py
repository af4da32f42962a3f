"""Fully connected layers: ``linear`` (alias ``fc``).

As PyTorch's ``nn.Linear``, it acts on the last axis: a vector of F features
becomes ``out`` features; a ``C x H x W`` tensor keeps ``C x H`` and maps W.
Params ``F*out + out``; MACs ``rows*F*out`` where rows is the number of vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..receptive import DROP, Collapse
from ..shape import Shape
from ..trace import fmt_num
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["Linear"]


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Linear(Op):
    """Fully connected layer on the last axis. ``linear 4096``, ``fc 10 nobias``."""

    kind = "linear"
    aliases = ("fc", "dense", "innerproduct", "inner_product", "gemm")
    family = "linear"
    summary = "fully connected layer (on the last axis)"
    weighted = True

    out: int = arg("int", positional=True, aliases=("out_features", "units", "num_output"))
    bias: bool = arg("bool", True, flags={"nobias": False})

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        features = x.dims[-1]
        rows = x.numel // features
        out = Shape((*x.dims[:-1], self.out))
        params = features * self.out + (self.out if self.bias else 0)
        macs = rows * features * self.out
        warnings: tuple[str, ...] = ()
        if x.rank >= 2:
            warnings = (
                f"linear acts on the last axis only ({features} of {x}), as PyTorch's Linear "
                f"does; to connect every input, flatten first (in_features {fmt_num(x.numel)})",
            )
        if ctx.trace is not None:
            ctx.trace.step(
                "params",
                "in_features * out_features" + (" + out_features" if self.bias else ""),
                f"{features} * {self.out}" + (f" + {self.out}" if self.bias else ""),
                params,
            )
            ctx.trace.step(
                "macs", "rows * in_features * out_features",
                f"{rows} * {features} * {self.out}", macs,
            )
        rf = DROP if x.rank == 0 else Collapse((len(x.dims) - 1,))
        return Out(
            out,
            params=params,
            macs=macs,
            extras={"bias": out.numel} if self.bias else {},
            warnings=warnings,
            rf=rf,
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Linear({ins[0].dims[-1]}, {self.out}, bias={self.bias})")
