"""Pooling: ``maxpool``, ``avgpool``, adaptive and global pooling.

Output sizes follow the active convention (see ``conventions.py``): PyTorch's
``ceil`` mode keeps a last window only if it starts inside the input or the left
padding; Caffe rounds up by default and clips only with padding; cuda-convnet
rounds up without a clip. Pooling has no parameters. Padding limits: PyTorch
``p <= k // 2`` on the undilated kernel (torch 2.13 ``pool2d_shape_check``),
Caffe ``p < k``.

Extras recorded for the counting presets: ``pool_in`` (input elements),
``pool_window`` (output elements times the window area).

``subsample`` is LeNet-5's subsampling layer (LeCun et al. 1998, section II.B):
each unit adds the inputs of its window, multiplies the sum by a trainable
coefficient and adds a trainable bias, so it has ``2C`` parameters and
``window + 1`` connections per output unit.

Connections (LeNet-5's count): each output is linked to every position of its
window, padding included as for convolutions, and has no bias: ``numel(out) *
prod(k)``. An adaptive pool's bins on an axis of ``i`` cells into ``o`` add up to
``i + o - gcd(i, o)`` cells (``arith.adaptive_bin_total``); a global pool links
each output to its whole channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from .._values import frozen
from ..arith import adaptive_bin_total, adaptive_max_bin
from ..errors import ShapeError
from ..receptive import Windows
from ..shape import Shape
from ..sizerules import Fixed, Keep, SizeRule
from ..trace import Trace, fmt_num
from ._sliding import Slide, slide
from ._torchcode import kwargs, pad_module, symmetric, tup
from .base import Context, Op, Out, Padding, TorchEmit, arg, expand, expand_padding, register

__all__ = [
    "AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "GlobalAvgPool", "GlobalMaxPool", "MaxPool", "Subsample",
]


class _Pool(Op):
    """What max and average pooling share."""

    __slots__ = ()
    family = "pool"
    _torch_name = ""

    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: Padding
    rounding: str | None

    def _dilation(self) -> tuple[int, ...]:
        return (1,)

    def _slide(self, x: Shape, ctx: Context) -> Slide:
        conv = ctx.convention
        rounding = self.rounding or conv.pool_rounding
        if self.padding == "same" and conv.same != "tensorflow":
            raise ShapeError(
                f"{self.kind}: 'same' padding for pooling exists only in TensorFlow; "
                "use --convention tensorflow or write the padding out"
            )
        self._check_padding_limit(x, ctx)
        why = "ceil mode" if self.rounding == "ceil" else f"{conv.name} rounds pooling up"
        return slide(
            self.kind, x, self.kernel, self.stride or self.kernel, self.padding, self._dilation(),
            rounding, conv.pool_clip, ctx,  # type: ignore[arg-type]
            same_style=conv.same, why_rounding=why,
        )

    def _check_padding_limit(self, x: Shape, ctx: Context) -> None:
        if isinstance(self.padding, str) or x.rank < 1:
            return
        limit = ctx.convention.pool_pad_limit
        k = expand(self.kind, "kernel", self.kernel, x.rank)
        pads = expand_padding(self.kind, self.padding, x.rank)
        for kk, (pb, pa) in zip(k, pads):
            p = max(pb, pa)
            if limit == "pytorch" and p > kk // 2:
                raise ShapeError(
                    f"padding {p} must be at most half the kernel {kk} in PyTorch "
                    f"(p <= k // 2 = {kk // 2})"
                )
            if limit == "caffe" and p >= kk:
                raise ShapeError(f"padding {p} must be smaller than the kernel {kk} in Caffe")

    def _out(self, x: Shape, sl: Slide, ctx: Context, at_least: tuple[tuple[int, int, int], ...] = ()) -> Out:
        out = x.with_spatial(sl.out)
        window = math.prod(sl.kernel)
        links = out.numel * window
        if ctx.trace is not None:
            _same_channels(ctx.trace, x)
            ctx.trace.step("connections", "numel(out) * prod(k)",
                           f"{fmt_num(out.numel)} * {'*'.join(map(str, sl.kernel))}", links,
                           note="each output reads its window; no weights, no bias")
        return Out(
            out,
            extras={"pool_in": x.numel, "pool_window": links},
            warnings=sl.warnings,
            rf=sl.rf,
            connections=links,
            sizes=SizeRule((Keep(0), *sl.rules), at_least=at_least),
        )

    def _torch(self, x: Shape, sl: Slide, ctx: Context, extra: str, pad_value: str) -> TorchEmit:
        conv = ctx.convention
        n = x.rank
        ceil = (self.rounding or conv.pool_rounding) == "ceil"
        pads = sl.pads
        zeros = tup((0,) * n)
        head = f"nn.{self._torch_name}{n}d({tup(sl.kernel)}" + kwargs(("stride", tup(sl.stride), tup(sl.kernel)))
        if not any(sl.overhang):
            ceil = False  # nothing hangs over: floor and ceil agree
        if symmetric(pads) and (not ceil or conv.pool_clip == "pytorch"):
            return TorchEmit(
                head + kwargs(("padding", tup([p for p, _ in pads]), zeros)) + extra
                + kwargs(("ceil_mode", ceil, False)) + ")"
            )
        # Conventions PyTorch lacks: pad explicitly (with the overhang) and floor.
        full = tuple((pb, pa + o) for (pb, pa), o in zip(pads, sl.overhang))
        return TorchEmit(
            f"nn.Sequential({pad_module(full, 'constant', pad_value)}, "
            f"{head}{extra}))"
        )


_ROUNDING = {"ceil": "ceil", "floor": "floor"}


def _same_channels(trace: Trace, x: Shape) -> None:
    trace.step("C", "C of the input (pooling works on each channel)", str(x.channels), x.channels)


@register
@frozen(kw_only=True)
class MaxPool(_Pool):
    """Max pooling. ``maxpool k3 s2``, ``maxpool 2``, ``maxpool k3 s2 p1 ceil``."""

    kind = "maxpool"
    aliases = ("max_pool", "maxpool1d", "maxpool2d", "maxpool3d", "pool")
    summary = "max pooling"
    _torch_name = "MaxPool"

    kernel: tuple[int, ...] = arg("sizes", short="k", positional=True, aliases=("kernel_size",))
    stride: tuple[int, ...] | None = arg("sizes", None, short="s", help="stride (default: kernel)")
    padding: Padding = arg("padding", ((0, 0),), short="p", min=0,
                           flags={"same": "same", "valid": "valid"})
    dilation: tuple[int, ...] = arg("sizes", (1,), short="d")
    rounding: str | None = arg("choice", None, choices=("floor", "ceil"), flags=_ROUNDING,
                               help="ceil or floor; default: the convention's")

    def _dilation(self) -> tuple[int, ...]:
        return self.dilation

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        return self._out(ins[0], self._slide(ins[0], ctx), ctx)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        sl = self._slide(x, ctx)
        ones = tup((1,) * x.rank)
        return self._torch(x, sl, ctx, kwargs(("dilation", tup(sl.dilation), ones)), "float('-inf')")


@register
@frozen(kw_only=True)
class AvgPool(_Pool):
    """Average pooling. ``avgpool k2``, ``avgpool k3 s1 p1 count_include_pad=false``."""

    kind = "avgpool"
    aliases = ("avg_pool", "avgpool1d", "avgpool2d", "avgpool3d", "ave_pool")
    summary = "average pooling"
    _torch_name = "AvgPool"

    kernel: tuple[int, ...] = arg("sizes", short="k", positional=True, aliases=("kernel_size",))
    stride: tuple[int, ...] | None = arg("sizes", None, short="s", help="stride (default: kernel)")
    padding: Padding = arg("padding", ((0, 0),), short="p", min=0,
                           flags={"same": "same", "valid": "valid"})
    rounding: str | None = arg("choice", None, choices=("floor", "ceil"), flags=_ROUNDING)
    count_include_pad: bool = arg("bool", True, help="padding counts in the divisor")
    divisor: int | None = arg("int", None, aliases=("divisor_override",))

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        at_least: tuple[tuple[int, int, int], ...] = ()
        if ctx.convention.name == "pytorch" and x.rank == 3:
            # ATen's avg_pool3d checks the unpadded input against the kernel.
            k = expand(self.kind, "kernel", self.kernel, 3)
            if any(i < kk for i, kk in zip(x.spatial, k)):
                raise ShapeError(
                    f"PyTorch's AvgPool3d needs every input size to be at least the kernel: "
                    f"input {'x'.join(map(str, x.spatial))}, kernel {'x'.join(map(str, k))}"
                )
            at_least = tuple((0, n + 1, kk) for n, kk in enumerate(k))
        return self._out(x, self._slide(x, ctx), ctx, at_least)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        sl = self._slide(x, ctx)
        extra = kwargs(("count_include_pad", self.count_include_pad, True))
        if self.divisor is not None and x.rank > 1:
            extra += f", divisor_override={self.divisor}"
        return self._torch(x, sl, ctx, extra, "0.0")


class _Adaptive(Op):
    __slots__ = ()
    family = "pool"
    _torch_name = ""
    size: tuple[int, ...]

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.rank < 1:
            raise ShapeError(f"{self.kind} needs spatial axes, but its input {x} is a vector")
        sizes = expand(self.kind, "size", self.size, x.rank)
        out = x.with_spatial(sizes)
        axes = []
        if ctx.trace is not None:
            _same_channels(ctx.trace, x)
        for axis, i, o in zip(x.axis_names(), x.spatial, sizes):
            widest = adaptive_max_bin(i, o)
            stride: int | Fraction = i // o if i % o == 0 else Fraction(i, o)
            axes.append((widest, stride, 0))
            if ctx.trace is not None:
                ctx.trace.step(
                    axis,
                    "bins [floor(j*i/o), ceil((j+1)*i/o)), j = 0..o-1",
                    f"i = {i}, o = {o}: the widest bin has {widest}",
                    o,
                    note="" if i % o == 0 else "the bins overlap: the input size is not a multiple",
                )
        cells = [adaptive_bin_total(i, o) for i, o in zip(x.spatial, sizes)]
        links = x.channels * math.prod(cells)
        if ctx.trace is not None:
            ctx.trace.step(
                "connections", "C * prod(i + o - gcd(i, o))",
                f"{x.channels} * " + " * ".join(f"({i} + {o} - {math.gcd(i, o)})"
                                                 for i, o in zip(x.spatial, sizes)),
                links, note="each output reads its bin; the bins of an axis add up to i + o - gcd(i, o) cells",
            )
        return Out(out, extras={"pool_in": x.numel, "pool_window": x.numel}, rf=Windows(tuple(axes)),
                   connections=links, sizes=SizeRule((Keep(0), *(Fixed(o) for o in sizes))))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        sizes = expand(self.kind, "size", self.size, x.rank)
        return TorchEmit(f"nn.{self._torch_name}{x.rank}d({tup(sizes)})")


@register
@frozen(kw_only=True)
class AdaptiveAvgPool(_Adaptive):
    """Adaptive average pooling to a fixed size. ``adaptiveavgpool 6x6``."""

    kind = "adaptiveavgpool"
    aliases = ("adaptive_avg_pool", "adaptiveavgpool2d")
    summary = "adaptive average pooling"
    _torch_name = "AdaptiveAvgPool"
    size: tuple[int, ...] = arg("sizes", positional=True, aliases=("output_size",))


@register
@frozen(kw_only=True)
class AdaptiveMaxPool(_Adaptive):
    """Adaptive max pooling to a fixed size. ``adaptivemaxpool 1``."""

    kind = "adaptivemaxpool"
    aliases = ("adaptive_max_pool", "adaptivemaxpool2d")
    summary = "adaptive max pooling"
    _torch_name = "AdaptiveMaxPool"
    size: tuple[int, ...] = arg("sizes", positional=True, aliases=("output_size",))


class _Global(Op):
    __slots__ = ()
    family = "pool"
    _torch_name = ""

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.rank < 1:
            raise ShapeError(f"{self.kind} needs spatial axes, but its input {x} is a vector")
        out = x.with_spatial((1,) * x.rank)
        if ctx.trace is not None:
            _same_channels(ctx.trace, x)
            for axis in x.axis_names():
                ctx.trace.step(axis, "1 (one value per channel)", "1", 1)
            ctx.trace.step("connections", "numel(in)", "*".join(map(str, x.dims)), x.numel,
                           note="each output reads its whole channel")
        return Out(
            out,
            extras={"pool_in": x.numel, "pool_window": x.numel},
            rf=Windows(tuple((i, i, 0) for i in x.spatial)),
            connections=x.numel,
            sizes=SizeRule((Keep(0), *(Fixed(1) for _ in x.spatial))),
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.{self._torch_name}{ins[0].rank}d(1)")


@register
@frozen(kw_only=True)
class GlobalAvgPool(_Global):
    """Average over all spatial positions, keeping 1x1 (PyTorch ``AdaptiveAvgPool2d(1)``)."""

    kind = "globalavgpool"
    aliases = ("gap", "global_avg_pool", "globalaveragepool")
    summary = "global average pooling"
    _torch_name = "AdaptiveAvgPool"


@register
@frozen(kw_only=True)
class GlobalMaxPool(_Global):
    """Max over all spatial positions, keeping 1x1."""

    kind = "globalmaxpool"
    aliases = ("global_max_pool", "globalmaxpool2d")
    summary = "global max pooling"
    _torch_name = "AdaptiveMaxPool"


@register
@frozen(kw_only=True)
class Subsample(Op):
    """LeNet-5's subsampling: window sum times a trainable coefficient, plus a trainable
    bias, per map (LeCun et al. 1998, section II.B). ``subsample 2``, ``subsample k2 s2``."""

    kind = "subsample"
    aliases = ("subsampling", "sumpool")
    family = "pool"
    summary = "LeNet subsampling (window sum x trainable coefficient + bias, per map)"
    weighted = True

    kernel: tuple[int, ...] = arg("sizes", short="k", positional=True, aliases=("kernel_size",))
    stride: tuple[int, ...] | None = arg("sizes", None, short="s", help="stride (default: kernel)")

    def _slide(self, x: Shape, ctx: Context) -> Slide:
        conv = ctx.convention
        return slide(self.kind, x, self.kernel, self.stride or self.kernel, ((0, 0),), (1,),
                     conv.pool_rounding, conv.pool_clip, ctx,
                     same_style=conv.same, why_rounding=f"{conv.name} rounds pooling up")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        sl = self._slide(x, ctx)
        out = x.with_spatial(sl.out)
        window = math.prod(sl.kernel)
        params = 2 * x.channels
        # Each unit: its window's inputs plus the bias (LeNet-5's count of S2's 5,880).
        connections = out.numel * (window + 1)
        if ctx.trace is not None:
            _same_channels(ctx.trace, x)
            ctx.trace.step("params", "2 * C (a coefficient and a bias per map)", f"2 * {x.channels}", params)
            ctx.trace.step("connections", "numel(out) * (window + 1)", f"{fmt_num(out.numel)} * ({window} + 1)",
                           connections)
        return Out(
            out,
            params=params,
            extras={"pool_in": x.numel, "pool_window": out.numel * window, "mul": out.numel, "bias": out.numel},
            warnings=sl.warnings,
            rf=sl.rf,
            connections=connections,
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # An average over the window, then a per-map scale and shift (a depthwise 1x1
        # convolution): the sum's constant factor 1/window folds into the coefficient.
        x = ins[0]
        n = max(1, x.rank)
        sl = self._slide(x, ctx)
        pool = f"nn.AvgPool{n}d({tup(sl.kernel)}, stride={tup(sl.stride)})"
        if any(sl.overhang):
            pads = tuple((0, extra) for extra in sl.overhang)
            pool = f"nn.Sequential({pad_module(pads, 'constant', '0.0')}, {pool})"
        c = x.channels
        return TorchEmit(f"nn.Sequential({pool}, nn.Conv{n}d({c}, {c}, 1, groups={c}))")
