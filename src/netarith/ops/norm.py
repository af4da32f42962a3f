"""Normalisation: ``bn``, ``gn``, ``ln``, ``instancenorm``, ``lrn``.

Parameters versus buffers as PyTorch counts them (conv-arithmetic.md section 3):
BatchNorm has ``2C`` parameters (weight, bias) and ``2C + 1`` buffer elements
(running mean, running variance, the 0-dim ``num_batches_tracked``); GroupNorm
``2C``; LayerNorm ``2 * prod(normalized shape)`` (half without bias);
InstanceNorm none unless ``affine``; LRN none.

Extra recorded for the counting presets: ``norm`` (elements normalised).

Connections: a normalisation rescales each unit's own value (its statistics and
its scale are not links between units); a learned shift adds one connection per
output, as a convolution's bias does (a convolution without bias followed by
BatchNorm counts what the folded convolution with bias counts, and LeNet-5's
subsampling, an average times a coefficient plus a bias, is ``avgpool`` then
``scale bias``). LRN divides each unit by a sum over ``size`` neighbouring
channels: ``size`` links per output, padding channels included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..shape import Shape
from ..trace import Trace, fmt_num
from ._steps import same_shape
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["LRN", "BatchNorm", "GroupNorm", "InstanceNorm", "LayerNorm"]


def _shift(trace: Trace | None, x: Shape, shifted: bool) -> int:
    """Connections of a normalisation: one per output for a learned shift (bias)."""
    links = x.numel if shifted else 0
    if trace is not None:
        trace.step("connections", "numel(out) (one learned shift per output)" if shifted else "0",
                   fmt_num(x.numel) if shifted else "0", links,
                   note="the shift is a bias; the scale multiplies the unit's own value" if shifted
                   else "a normalisation adds no links between units")
    return links


def _norm_dim(x: Shape) -> int:
    """BatchNorm1d/2d/3d by rank: a vector and 1d maps share BatchNorm1d."""
    return max(1, x.rank)


@register
@frozen(kw_only=True)
class BatchNorm(Op):
    """Batch normalisation over channels. ``bn``, ``bn noaffine``, ``bn eps=0.001``."""

    kind = "bn"
    aliases = ("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d", "batch_norm")
    family = "norm"
    summary = "batch normalisation"

    affine: bool = arg("bool", True, flags={"noaffine": False}, help="learn scale and shift")
    stats: bool = arg("bool", True, flags={"nostats": False}, aliases=("track_running_stats",),
                      help="keep running statistics (buffers)")
    eps: float = arg("float", 1e-5)
    momentum: float = arg("float", 0.1)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        c = x.channels
        params = 2 * c if self.affine else 0
        buffers = 2 * c + 1 if self.stats else 0
        same_shape(ctx.trace, x, "normalised per channel")
        if ctx.trace is not None:
            ctx.trace.step("params", "2 * C (weight, bias)" if self.affine else "0 (no affine)",
                           f"2 * {c}" if self.affine else "0", params)
            ctx.trace.step("buffers", "2 * C + 1 (running mean, variance, batch count)",
                           f"2 * {c} + 1" if self.stats else "0", buffers)
        links = _shift(ctx.trace, x, self.affine)
        return Out(x, params=params, buffers=buffers, extras={"norm": x.numel}, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        return TorchEmit(
            f"nn.BatchNorm{_norm_dim(x)}d({x.channels}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.stats})"
        )


@register
@frozen(kw_only=True)
class GroupNorm(Op):
    """Group normalisation. ``gn 32``."""

    kind = "gn"
    aliases = ("groupnorm", "group_norm")
    family = "norm"
    summary = "group normalisation"

    groups: int = arg("int", positional=True, aliases=("num_groups",))
    affine: bool = arg("bool", True, flags={"noaffine": False})
    eps: float = arg("float", 1e-5)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.channels % self.groups:
            raise ShapeError(f"{self.groups} groups do not divide the {x.channels} channels")
        warnings: tuple[str, ...] = ()
        if x.numel == self.groups:
            warnings = (
                "each group holds a single value, so the output is all zeros "
                "(PyTorch refuses this at batch size 1: 'Expected more than 1 value per channel')",
            )
        params = 2 * x.channels if self.affine else 0
        same_shape(ctx.trace, x, f"normalised in {self.groups} groups of channels")
        if ctx.trace is not None:
            ctx.trace.step("params", "2 * C (weight, bias)" if self.affine else "0 (no affine)",
                           f"2 * {x.channels}" if self.affine else "0", params)
        links = _shift(ctx.trace, x, self.affine)
        return Out(x, params=params, extras={"norm": x.numel}, warnings=warnings, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        return TorchEmit(f"nn.GroupNorm({self.groups}, {x.channels}, eps={self.eps}, affine={self.affine})")


@register
@frozen(kw_only=True)
class LayerNorm(Op):
    """Layer normalisation over the last ``dims`` axes (``ln``, ``ln 3``), or over the
    channels at each position (``ln channels``, torchvision's LayerNorm2d)."""

    kind = "ln"
    aliases = ("layernorm", "layer_norm")
    family = "norm"
    summary = "layer normalisation"

    dims: int = arg("int", 1, positional=True, help="how many trailing axes are normalised")
    channels: bool = arg("bool", False, flags={"channels": True},
                         help="normalise over the channel axis at each position")
    affine: bool = arg("bool", True, flags={"noaffine": False})
    bias: bool = arg("bool", True, flags={"nobias": False})
    eps: float = arg("float", 1e-5)

    def check(self) -> None:
        if self.channels and self.dims != 1:
            raise SpecError("ln: 'channels' normalises one axis; drop the count")

    def _normalized(self, x: Shape) -> tuple[int, ...]:
        if self.channels:
            return (x.channels,)
        if self.dims > len(x.dims):
            raise ShapeError(f"cannot normalise the last {self.dims} axes of {x}")
        return x.dims[len(x.dims) - self.dims:]

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        shape = self._normalized(x)
        size = math.prod(shape)
        params = 0
        if self.affine:
            params = 2 * size if self.bias else size
        same_shape(ctx.trace, x, "normalised over " + ("the channels" if self.channels else
                                                     f"the last {self.dims} ax{'es' if self.dims > 1 else 'is'}"))
        if ctx.trace is not None:
            per = "*".join(map(str, shape))
            formula, numbers = {
                (True, True): ("2 * prod(normalised shape) (weight, bias)", f"2 * {per}"),
                (True, False): ("prod(normalised shape) (weight)", per),
            }.get((self.affine, self.bias), ("0 (no affine)", "0"))
            ctx.trace.step("params", formula, numbers, params)
        links = _shift(ctx.trace, x, self.affine and self.bias)
        return Out(x, params=params, extras={"norm": x.numel}, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        shape = self._normalized(x)
        module = (
            f"nn.LayerNorm({list(shape)}, eps={self.eps}, elementwise_affine={self.affine}, "
            f"bias={self.bias})"
        )
        if self.channels:
            return TorchEmit(module, "{m}({0}.movedim(1, -1)).movedim(-1, 1)")
        return TorchEmit(module)


@register
@frozen(kw_only=True)
class InstanceNorm(Op):
    """Instance normalisation. ``instancenorm``, ``instancenorm affine``."""

    kind = "instancenorm"
    aliases = ("inorm", "instance_norm", "instancenorm2d")
    family = "norm"
    summary = "instance normalisation"

    affine: bool = arg("bool", False, flags={"affine": True})
    stats: bool = arg("bool", False, flags={"stats": True}, aliases=("track_running_stats",))
    eps: float = arg("float", 1e-5)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.rank < 1:
            raise ShapeError(f"instancenorm needs spatial axes; its input {x} is a vector")
        c = x.channels
        params = 2 * c if self.affine else 0
        buffers = 2 * c + 1 if self.stats else 0
        same_shape(ctx.trace, x, "each channel of each sample normalised")
        if ctx.trace is not None:
            ctx.trace.step("params", "2 * C (weight, bias)" if self.affine else "0 (no affine)",
                           f"2 * {c}" if self.affine else "0", params)
            if self.stats:
                ctx.trace.step("buffers", "2 * C + 1 (running mean, variance, batch count)",
                               f"2 * {c} + 1", buffers)
        links = _shift(ctx.trace, x, self.affine)
        return Out(x, params=params, buffers=buffers, extras={"norm": x.numel}, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        return TorchEmit(
            f"nn.InstanceNorm{x.rank}d({x.channels}, eps={self.eps}, affine={self.affine}, "
            f"track_running_stats={self.stats})"
        )


@register
@frozen(kw_only=True)
class LRN(Op):
    """Local response normalisation across channels. ``lrn 5`` (AlexNet: k=2, alpha=1e-4, beta=0.75);
    ``lrn 3 within`` normalises over a 3x3 spatial window in each channel instead (Caffe's
    WITHIN_CHANNEL, cuda-convnet's ``rnorm``)."""

    kind = "lrn"
    aliases = ("localresponsenorm", "local_response_norm", "norm")
    family = "norm"
    summary = "local response normalisation"

    size: int = arg("int", positional=True, aliases=("local_size",))
    alpha: float = arg("float", 1e-4)
    beta: float = arg("float", 0.75)
    k: float = arg("float", 1.0)
    region: str = arg("choice", "across", choices=("across", "within"),
                      flags={"across": "across", "within": "within"},
                      help="across channels, or within each channel over a spatial window")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.rank < 1:
            raise ShapeError(f"lrn needs spatial axes (PyTorch wants 3 or more dims); its input {x} is a vector")
        links = self.size * x.numel
        same_shape(ctx.trace, x, f"each unit divided by a sum over {self.size} neighbouring channels")
        if ctx.trace is not None:
            ctx.trace.step("connections", "size * numel(out)", f"{self.size} * {fmt_num(x.numel)}", links,
                           note="each unit reads its own and its neighbours' values; no weights")
        return Out(x, extras={"norm": x.numel}, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        if self.region == "within":
            return TorchEmit(None, _within_channel(self, ins[0].rank))
        return TorchEmit(
            f"nn.LocalResponseNorm({self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k})"
        )


def _within_channel(lrn: LRN, rank: int) -> str:
    """x / (k + alpha * mean of x^2 over a size^rank window)^beta, the window zero-padded so
    that the shape is kept (Caffe lrn_layer.cpp: an average pool of the squares)."""
    before, after = (lrn.size - 1) // 2, lrn.size // 2
    pads = ", ".join([f"{before}, {after}"] * rank)
    fn = "torch.nn.functional"
    mean = f"{fn}.avg_pool{rank}d({fn}.pad({{0}}.pow(2), ({pads})), {lrn.size}, stride=1)"
    return f"{{0}} / ({lrn.k!r} + {lrn.alpha!r} * {mean}).pow({lrn.beta!r})"


@register
@frozen(kw_only=True)
class Scale(Op):
    """A learned per-channel scale, with ``bias`` a shift too: Caffe's Scale layer,
    torchvision's layer scale. ``scale``, ``scale bias``."""

    kind = "scale"
    aliases = ("layerscale", "layer_scale", "affine")
    family = "norm"
    summary = "per-channel scale (and shift)"

    bias: bool = arg("bool", False, flags={"bias": True}, aliases=("bias_term",))

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        c = x.channels
        params = 2 * c if self.bias else c
        same_shape(ctx.trace, x, "each channel scaled")
        if ctx.trace is not None:
            ctx.trace.step("params", "2 * C (scale, shift)" if self.bias else "C (scale)",
                           f"2 * {c}" if self.bias else str(c), params)
        links = _shift(ctx.trace, x, self.bias)
        return Out(x, params=params, extras={"mul": x.numel}, connections=links)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # Parameters multiplied in, as torchvision's layer scale does (a 1x1 depthwise convolution
        # would hold the same numbers but count as multiply-accumulates once exported).
        x = ins[0]
        dims = ", ".join(str(d) for d in (x.channels, *(1,) * x.rank))
        if self.bias:
            return TorchEmit(f"nn.ParameterList([nn.Parameter(torch.ones({dims})), nn.Parameter(torch.zeros({dims}))])",
                             "{0} * {m}[0] + {m}[1]")
        return TorchEmit(f"nn.Parameter(torch.ones({dims}))", "{0} * {m}")
