"""Activations, softmax and dropout: elementwise, shape-preserving.

Only PReLU has parameters (1, or one per channel). Extra recorded for the
counting presets: ``act`` (elements the activation is applied to).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..errors import ShapeError, SpecError
from ..shape import Shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = [
    "ELU",
    "GELU",
    "Dropout",
    "HardSigmoid",
    "HardSwish",
    "LeakyReLU",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


class _Activation(Op):
    """A shape-preserving elementwise function."""

    __slots__ = ()
    family = "activation"
    module: ClassVar[str] = ""
    counted: ClassVar[str] = "act"

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        return Out(x, extras={self.counted: x.numel} if self.counted else {})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.{self.module}")


def _simple(kind: str, module: str, summary: str, aliases: tuple[str, ...] = ()) -> type[_Activation]:
    """A parameterless activation class, registered under ``kind``."""
    cls: type[_Activation] = dataclass(frozen=True, kw_only=True, slots=True)(
        type(
            module.split("(")[0],
            (_Activation,),
            {
                "__doc__": f"{summary}. ``{kind}``.",
                "kind": kind,
                "aliases": aliases,
                "summary": summary,
                "module": module,
                "__module__": __name__,
            },
        )
    )
    return register(cls)


ReLU = _simple("relu", "ReLU()", "rectified linear unit")
ReLU6 = _simple("relu6", "ReLU6()", "ReLU capped at 6")
SiLU = _simple("silu", "SiLU()", "sigmoid linear unit (swish)", ("swish",))
Sigmoid = _simple("sigmoid", "Sigmoid()", "logistic sigmoid")
Tanh = _simple("tanh", "Tanh()", "hyperbolic tangent")
HardSwish = _simple("hardswish", "Hardswish()", "hard swish", ("hswish",))
HardSigmoid = _simple("hardsigmoid", "Hardsigmoid()", "hard sigmoid", ("hsigmoid",))
Mish = _simple("mish", "Mish()", "mish")
Softplus = _simple("softplus", "Softplus()", "softplus")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class LeakyReLU(_Activation):
    """Leaky ReLU. ``leakyrelu``, ``leakyrelu 0.2``."""

    kind = "leakyrelu"
    aliases = ("leaky_relu", "lrelu")
    summary = "leaky ReLU"
    slope: float = arg("float", 0.01, positional=True, aliases=("negative_slope",))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.LeakyReLU({self.slope})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class ELU(_Activation):
    """Exponential linear unit. ``elu``, ``elu alpha=0.5``."""

    kind = "elu"
    summary = "exponential linear unit"
    alpha: float = arg("float", 1.0)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.ELU({self.alpha})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class GELU(_Activation):
    """Gaussian error linear unit. ``gelu``, ``gelu tanh``."""

    kind = "gelu"
    summary = "Gaussian error linear unit"
    approximate: str = arg("choice", "none", choices=("none", "tanh"), flags={"tanh": "tanh"})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.GELU(approximate={self.approximate!r})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class PReLU(_Activation):
    """Parametric ReLU: one learned slope (``prelu``) or one per channel (``prelu channels``)."""

    kind = "prelu"
    summary = "parametric ReLU"
    per_channel: bool = arg("bool", False, flags={"channels": True})

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        return Out(x, params=x.channels if self.per_channel else 1, extras={"act": x.numel})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        n = ins[0].channels if self.per_channel else 1
        return TorchEmit(f"nn.PReLU({n})")


class _DimOp(_Activation):
    __slots__ = ()
    dim: int

    def _axis(self, x: Shape) -> int:
        """Check a PyTorch dim (batch included) against a per-sample shape."""
        n = len(x.dims) + 1
        if not -n <= self.dim < n or self.dim in (0, -n):
            raise ShapeError(f"{self.kind} dim {self.dim} is out of range for {x} (batch is dim 0)")
        return self.dim


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Softmax(_DimOp):
    """Softmax over a PyTorch dim (default 1, the channels). ``softmax``, ``softmax dim=-1``."""

    kind = "softmax"
    summary = "softmax"
    dim: int = arg("int", 1, min=-64)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        self._axis(ins[0])
        return _Activation.infer(self, ins, ctx)  # zero-argument super() fails in slots dataclasses

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Softmax(dim={self.dim})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class LogSoftmax(_DimOp):
    """Log-softmax over a PyTorch dim (default 1)."""

    kind = "logsoftmax"
    summary = "log-softmax"
    dim: int = arg("int", 1, min=-64)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        self._axis(ins[0])
        return _Activation.infer(self, ins, ctx)  # zero-argument super() fails in slots dataclasses

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.LogSoftmax(dim={self.dim})")


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Dropout(_Activation):
    """Dropout (identity at inference). ``dropout``, ``dropout 0.5``."""

    kind = "dropout"
    aliases = ("dropout2d", "dropout1d", "dropout3d")
    summary = "dropout (identity at inference)"
    counted = ""
    p: float = arg("float", 0.5, positional=True)

    def check(self) -> None:
        if not 0 <= self.p <= 1:
            raise SpecError(f"dropout: 'p' must be between 0 and 1: {self.p}")

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Dropout({self.p})")
