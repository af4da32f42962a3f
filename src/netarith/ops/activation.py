"""Activations, softmax, dropout and stochastic depth: elementwise, shape-preserving.

Only PReLU has parameters (1, or one per channel). Extra recorded for the
counting presets: ``act`` (elements the activation is applied to).

Connections: none. An activation is part of the unit that computed its input
(LeNet-5 counts a unit's squashing function inside the unit), and dropout is a
mask on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..shape import Shape
from ._steps import same_shape
from .base import Context, Op, Out, TorchEmit, arg, register

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = [
    "ELU",
    "GELU",
    "Clip",
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
    "StochasticDepth",
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
        same_shape(ctx.trace, x, f"{self.kind} acts on each element")
        return Out(x, extras={self.counted: x.numel} if self.counted else {})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.{self.module}")


def _simple(kind: str, module: str, summary: str, aliases: tuple[str, ...] = ()) -> type[_Activation]:
    """A parameterless activation class, registered under ``kind``."""
    cls: type[_Activation] = frozen(kw_only=True)(
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
@frozen(kw_only=True)
class Clip(_Activation):
    """Clamp to a range: ``clip min=-1 max=1`` (hardtanh), ``clip min=0 max=10``; a bound
    left out is open. ONNX Clip, cuda-convnet's bounded ReLU. (``relu6`` is clip 0..6.)"""

    kind = "clip"
    aliases = ("clamp", "hardtanh")
    summary = "clamp to a range"
    min: float | None = arg("float", None, help="lower bound (none: open)")
    max: float | None = arg("float", None, help="upper bound (none: open)")

    def check(self) -> None:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SpecError(f"clip: 'min' {self.min} is above 'max' {self.max}")

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        if self.min is not None and self.max is not None:
            return TorchEmit(f"nn.Hardtanh({self.min!r}, {self.max!r})")
        return TorchEmit(None, f"torch.clamp({{0}}, min={self.min!r}, max={self.max!r})")


@register
@frozen(kw_only=True)
class LeakyReLU(_Activation):
    """Leaky ReLU. ``leakyrelu``, ``leakyrelu 0.2``."""

    kind = "leakyrelu"
    aliases = ("leaky_relu", "lrelu")
    summary = "leaky ReLU"
    slope: float = arg("float", 0.01, positional=True, aliases=("negative_slope",))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.LeakyReLU({self.slope})")


@register
@frozen(kw_only=True)
class ELU(_Activation):
    """Exponential linear unit. ``elu``, ``elu alpha=0.5``."""

    kind = "elu"
    summary = "exponential linear unit"
    alpha: float = arg("float", 1.0)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.ELU({self.alpha})")


@register
@frozen(kw_only=True)
class GELU(_Activation):
    """Gaussian error linear unit. ``gelu``, ``gelu tanh``."""

    kind = "gelu"
    summary = "Gaussian error linear unit"
    approximate: str = arg("choice", "none", choices=("none", "tanh"), flags={"tanh": "tanh"})

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.GELU(approximate={self.approximate!r})")


@register
@frozen(kw_only=True)
class PReLU(_Activation):
    """Parametric ReLU: one learned slope (``prelu``) or one per channel (``prelu channels``)."""

    kind = "prelu"
    summary = "parametric ReLU"
    per_channel: bool = arg("bool", False, flags={"channels": True})

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        params = x.channels if self.per_channel else 1
        same_shape(ctx.trace, x, "prelu acts on each element")
        if ctx.trace is not None:
            ctx.trace.step("params", "C (one slope per channel)" if self.per_channel else "1 (one shared slope)",
                           str(params), params)
        return Out(x, params=params, extras={"act": x.numel})

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
@frozen(kw_only=True)
class Softmax(_DimOp):
    """Softmax over a PyTorch dim (default 1, the channels). ``softmax``, ``softmax dim=-1``."""

    kind = "softmax"
    summary = "softmax"
    dim: int = arg("int", 1, min=-64)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        self._axis(ins[0])
        # Named base: zero-argument super() fails in a slots class (a rebuilt class).
        return _Activation.infer(self, ins, ctx)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Softmax(dim={self.dim})")


@register
@frozen(kw_only=True)
class LogSoftmax(_DimOp):
    """Log-softmax over a PyTorch dim (default 1)."""

    kind = "logsoftmax"
    summary = "log-softmax"
    dim: int = arg("int", 1, min=-64)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        self._axis(ins[0])
        # Named base: zero-argument super() fails in a slots class (a rebuilt class).
        return _Activation.infer(self, ins, ctx)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.LogSoftmax(dim={self.dim})")


@register
@frozen(kw_only=True)
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


@register
@frozen(kw_only=True)
class StochasticDepth(_Activation):
    """Stochastic depth (drop path): in training, drops a residual branch for a random
    sample (``row``) or the whole batch (``batch``) with probability ``p`` and scales
    the survivors by ``1/(1-p)``; at inference the identity (Huang et al., "Deep
    Networks with Stochastic Depth", ECCV 2016; torchvision's ``StochasticDepth``).
    ``stochasticdepth 0.1``, ``droppath 0.2 mode=batch``.
    """

    kind = "stochasticdepth"
    aliases = ("stochastic_depth", "droppath", "drop_path")
    summary = "stochastic depth (identity at inference)"
    counted = ""
    p: float = arg("float", 0.0, positional=True, help="probability of dropping the branch")
    mode: str = arg("choice", "row", choices=("row", "batch"), help="drop per sample or per batch")

    def check(self) -> None:
        if not 0 <= self.p <= 1:
            raise SpecError(f"stochasticdepth: 'p' must be between 0 and 1: {self.p}")

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # torch has no such module; written out as torchvision's stochastic_depth computes it.
        keep = 1.0 - self.p
        noise = "({0}.shape[0],) + (1,) * ({0}.dim() - 1)" if self.mode == "row" else "(1,) * {0}.dim()"
        scale = f".div_({keep!r})" if keep > 0 else ""
        dropped = f"{{0}} * {{0}}.new_empty({noise}).bernoulli_({keep!r}){scale}"
        return TorchEmit(None, f"({dropped} if self.training and {self.p!r} > 0 else {{0}})")
