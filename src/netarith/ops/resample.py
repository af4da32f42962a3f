"""Changing the spatial grid without weights: ``upsample`` and ``pad``.

Upsampling by a scale gives ``floor(i * scale)`` per axis (PyTorch
``interpolate``); its receptive field is an upper bound (Distill: a kernel of 1,
2 or 4 taps for nearest, linear and cubic). Extra recorded for the counting
presets: ``upsample`` (output elements).

Connections: an upsampled unit is a fixed-weight sum of the input cells it
interpolates, ``taps ** rank`` of them (nearest 1, bilinear 4, trilinear 8,
bicubic 16). Padding adds none: padded cells are constants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import Stretch, Windows
from ..shape import Shape
from ..sizerules import DimRule, Fixed, Keep, Padded, Scaled, SizeRule
from ..trace import Trace, fmt_num
from ._torchcode import pad_module
from .base import Context, Op, Out, Padding, TorchEmit, arg, expand, expand_padding, register

__all__ = ["Pad", "Upsample"]

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
_TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


@register
@frozen(kw_only=True)
class Upsample(Op):
    """Upsampling by a scale or to a size. ``upsample 2``, ``upsample 2 bilinear``,
    ``upsample size=28x28``."""

    kind = "upsample"
    aliases = ("interpolate", "resize")
    family = "resample"
    summary = "upsampling (interpolation)"

    scale: tuple[Fraction, ...] | None = arg("ratios", None, positional=True,
                                             aliases=("scale_factor",))
    size: tuple[int, ...] | None = arg("sizes", None)
    mode: str = arg("choice", "nearest", choices=_MODES, flags={m: m for m in _MODES})
    align_corners: bool | None = arg("bool", None)

    def check(self) -> None:
        if (self.scale is None) == (self.size is None):
            raise SpecError("upsample: give either a scale (upsample 2) or a size (size=28x28)")
        if self.scale is not None and any(f <= 0 for f in self.scale):
            raise SpecError(f"upsample: 'scale' must be > 0: {self.scale}")

    def _scales(self, x: Shape) -> tuple[Fraction, ...]:
        assert self.scale is not None
        if len(self.scale) not in (1, x.rank):
            raise ShapeError(f"upsample has {len(self.scale)} scales for {x.rank} spatial axes")
        return self.scale * x.rank if len(self.scale) == 1 else self.scale

    def _sizes(self, x: Shape) -> tuple[int, ...]:
        if x.rank < 1:
            raise ShapeError(f"upsample needs spatial axes, but its input {x} is a vector")
        need = _MODE_RANK.get(self.mode)
        if need is not None and need != x.rank:
            raise ShapeError(f"{self.mode} upsampling needs {need}d input, got {x}")
        if self.size is not None:
            return expand("upsample", "size", self.size, x.rank)
        return tuple(int(i * f) for i, f in zip(x.spatial, self._scales(x)))

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        sizes = self._sizes(x)
        if any(o < 1 for o in sizes):
            raise ShapeError(f"upsample gives an empty output from {x}")
        out = x.with_spatial(sizes)
        taps = _TAPS[self.mode]
        rf = Stretch(tuple((Fraction(o, i), taps) for i, o in zip(x.spatial, sizes)))
        links = taps ** x.rank * out.numel
        if self.size is not None:
            rules: tuple[DimRule, ...] = tuple(Fixed(o) for o in sizes)
        else:
            rules = tuple(Scaled(n + 1, f) for n, f in enumerate(self._scales(x)))
        if ctx.trace is not None:
            self._explain(ctx.trace, x, sizes, taps, links)
        return Out(out, extras={"upsample": out.numel}, rf=rf, connections=links,
                   sizes=SizeRule((Keep(0), *rules)))

    def _explain(self, trace: Trace, x: Shape, sizes: tuple[int, ...], taps: int, links: int) -> None:
        trace.step("C", "C of the input", str(x.channels), x.channels)
        if self.size is not None:
            for axis, o in zip(x.axis_names(), sizes):
                trace.step(axis, "the given size", str(o), o)
        else:
            for axis, i, f, o in zip(x.axis_names(), x.spatial, self._scales(x), sizes):
                trace.step(axis, "floor(i * scale)", f"floor({i} * {fmt_num(f)}) = floor({fmt_num(i * f)})", o)
        trace.step("connections", f"{taps}^{x.rank} * numel(out)" if x.rank > 1 else f"{taps} * numel(out)",
                   f"{taps ** x.rank} * {fmt_num(math.prod((x.channels, *sizes)))}", links,
                   note=f"{self.mode} interpolation reads {taps} cell{'s' if taps > 1 else ''} per axis")

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        align = "" if self.align_corners is None else f", align_corners={self.align_corners}"
        if self.size is not None:
            return TorchEmit(f"nn.Upsample(size={out.spatial}, mode={self.mode!r}{align})")
        assert self.scale is not None
        scales = tuple(float(f) for f in self.scale)
        factor = scales[0] if len(scales) == 1 else scales
        return TorchEmit(f"nn.Upsample(scale_factor={factor}, mode={self.mode!r}{align})")


@register
@frozen(kw_only=True)
class Pad(Op):
    """Explicit padding. ``pad 1``, ``pad 0+1`` (end only), ``pad 1x2 reflect``."""

    kind = "pad"
    aliases = ("zeropad", "zeropad2d")
    family = "resample"
    summary = "explicit padding"

    padding: Padding = arg("padding", positional=True, min=0)
    mode: str = arg("choice", "zeros", choices=("zeros", "reflect", "replicate", "circular"),
                    flags={"reflect": "reflect", "replicate": "replicate", "circular": "circular"})
    value: float = arg("float", 0.0)

    def check(self) -> None:
        if isinstance(self.padding, str):
            raise SpecError("pad: give sizes, e.g. pad 1 or pad 0+1")

    def _pads(self, x: Shape) -> tuple[tuple[int, int], ...]:
        if x.rank < 1:
            raise ShapeError(f"pad needs spatial axes, but its input {x} is a vector")
        return expand_padding("pad", self.padding, x.rank)  # type: ignore[arg-type]

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        pads = self._pads(x)
        if self.mode in ("reflect", "circular"):
            for axis, i, (pb, pa) in zip(x.axis_names(), x.spatial, pads):
                if (self.mode == "reflect" and max(pb, pa) >= i) or max(pb, pa) > i:
                    raise ShapeError(
                        f"{self.mode} padding {max(pb, pa)} is too large for size {i} ({axis})"
                    )
        out = x.with_spatial(tuple(i + pb + pa for i, (pb, pa) in zip(x.spatial, pads)))
        if ctx.trace is not None:
            ctx.trace.step("C", "C of the input", str(x.channels), x.channels)
            for axis, i, (pb, pa), o in zip(x.axis_names(), x.spatial, pads, out.spatial):
                ctx.trace.step(axis, "i + before + after", f"{i} + {pb} + {pa}", o)
        extra = {"reflect": 1, "circular": 0}.get(self.mode)
        at_least = () if extra is None else tuple(
            (0, n + 1, max(pb, pa) + extra) for n, (pb, pa) in enumerate(pads) if max(pb, pa))
        rules = tuple(Padded(n + 1, pb, pa) for n, (pb, pa) in enumerate(pads))
        return Out(out, rf=Windows(tuple((1, 1, pb) for pb, _ in pads)),
                   sizes=SizeRule((Keep(0), *rules), at_least=at_least))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        pads = self._pads(ins[0])
        mode = "constant" if self.mode == "zeros" else self.mode
        return TorchEmit(pad_module(pads, mode, self.value))
