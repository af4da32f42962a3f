"""Convolutions: ``conv`` and ``convT`` (transposed), 1d/2d/3d by the input's rank.

Counts (reference/conv-arithmetic.md sections 3 and 4):

* conv params ``Cout*(Cin/g)*prod(k)`` + ``Cout`` bias;
  MACs ``numel(out)*(Cin/g)*prod(k)`` (bias not included; it is the ``bias`` extra).
* convT weight ``(Cin, Cout/g, *k)``: params ``Cin*(Cout/g)*prod(k)`` + ``Cout``;
  MACs counted on the input side, the multiplies that really happen:
  ``prod(in spatial)*Cin*(Cout/g)*prod(k)``. (thop and torchinfo count on the
  output side, a stride-squared too high.)
* tableconv (a connection table: output map j sees only the input maps listed
  in row j, LeCun et al. 1998, Table I): params ``sum_j |row_j|*prod(k)`` +
  ``Cout``; MACs ``prod(out spatial)*sum_j |row_j|*prod(k)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from .._values import frozen
from ..arith import transposed_size
from ..errors import ShapeError, SpecError
from ..receptive import Transposed
from ..shape import Shape
from ..sizerules import Fixed, SizeRule, TransposedWindow
from ..trace import fmt_num
from ._sliding import Slide, slide
from ._torchcode import kwargs, pad_module, symmetric, torch_pads, tup
from .base import Context, Op, Out, Padding, TorchEmit, arg, expand, expand_padding, register

__all__ = ["Conv", "ConvTranspose", "TableConv", "connection_table"]

_PAD_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_groups(kind: str, cin: int, groups: int) -> None:
    if cin % groups:
        raise ShapeError(
            f"groups {groups} does not divide the {cin} input channels; "
            f"groups must divide both the input and the output channels"
        )


def _rank_ok(kind: str, x: Shape) -> None:
    if x.rank > 3:
        raise ShapeError(f"{kind} works on 1d, 2d and 3d inputs; {x} has {x.rank} spatial axes")


@register
@frozen(kw_only=True)
class Conv(Op):
    """Convolution. ``conv 96 k11 s4``, ``conv 64 k3 p1 g32 nobias``, ``conv 8 k3 same``."""

    kind = "conv"
    aliases = ("conv1d", "conv2d", "conv3d", "convolution")
    family = "conv"
    summary = "convolution (1d/2d/3d from the input's rank)"
    weighted = True

    out: int = arg("int", positional=True, aliases=("out_channels", "filters", "num_output"),
                   help="output channels")
    kernel: tuple[int, ...] = arg("sizes", short="k", aliases=("kernel_size",), help="kernel size")
    stride: tuple[int, ...] = arg("sizes", (1,), short="s", help="stride")
    padding: Padding = arg("padding", ((0, 0),), short="p", min=0,
                           flags={"same": "same", "valid": "valid"},
                           help="padding per axis; 0+1 is 0 before, 1 after")
    dilation: tuple[int, ...] = arg("sizes", (1,), short="d", help="dilation")
    groups: int = arg("int", 1, short="g", help="groups")
    bias: bool = arg("bool", True, flags={"nobias": False}, help="learn a bias")
    padding_mode: str = arg("choice", "zeros", choices=_PAD_MODES, aliases=("mode",),
                            help="how padding is filled")

    def check(self) -> None:
        if self.out % self.groups:
            raise SpecError(
                f"conv: groups {self.groups} does not divide the {self.out} output channels"
            )

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        _rank_ok("conv", x)
        _check_groups("conv", x.channels, self.groups)
        conv = ctx.convention
        sl = slide(
            "conv", x, self.kernel, self.stride, self.padding, self.dilation,
            conv.conv_rounding, "none", ctx,
            same_style=conv.same, why_rounding=f"{conv.name} rounds convolutions up",
        )
        if self.padding_mode in ("reflect", "circular") and conv.name == "pytorch":
            _check_wrap_padding(self.padding_mode, x, sl.pads)
        out = Shape((self.out, *sl.out))
        numel = out.numel
        fan_in = (x.channels // self.groups) * math.prod(sl.kernel)
        bias = self.out if self.bias else 0
        params = self.out * fan_in + bias
        macs = numel * fan_in
        trace = ctx.trace
        if trace is not None:
            kern = "*".join(map(str, sl.kernel))
            trace.step("C", "Cout (the layer's filters)", str(self.out), self.out)
            trace.step(
                "params",
                "Cout * (Cin/g) * prod(k)" + (" + Cout" if self.bias else ""),
                f"{self.out} * ({x.channels}/{self.groups}) * {kern}"
                + (f" + {self.out}" if self.bias else ""),
                params,
            )
            trace.step(
                "macs",
                "numel(out) * (Cin/g) * prod(k)",
                f"{fmt_num(out.numel)} * ({x.channels}/{self.groups}) * {kern}",
                macs,
                note="multiply-accumulates; the bias adds are not included",
            )
        return Out(
            out,
            params=params,
            macs=macs,
            extras={"bias": numel} if self.bias else {},
            warnings=sl.warnings,
            rf=sl.rf,
            sizes=SizeRule((Fixed(self.out), *sl.rules), at_least=self._wrap_limits(sl.pads, conv.name)),
        )

    def _wrap_limits(self, pads: tuple[tuple[int, int], ...], convention: str) -> tuple[tuple[int, int, int], ...]:
        """The input sizes reflect (p < i) and circular (p <= i) padding need in PyTorch."""
        if self.padding_mode not in ("reflect", "circular") or convention != "pytorch":
            return ()
        extra = 1 if self.padding_mode == "reflect" else 0
        return tuple((0, n + 1, max(pb, pa) + extra) for n, (pb, pa) in enumerate(pads) if max(pb, pa))

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        n = x.rank
        conv = ctx.convention
        sl = slide("conv", x, self.kernel, self.stride, self.padding, self.dilation,
                   conv.conv_rounding, "none", ctx, same_style=conv.same, why_rounding="")
        ones = tup((1,) * n)
        base = (
            f"nn.Conv{n}d({x.channels}, {self.out}, kernel_size={tup(sl.kernel)}"
            + kwargs(("stride", tup(sl.stride), ones))
            + "{padding}"
            + kwargs(("dilation", tup(sl.dilation), ones), ("groups", self.groups, 1),
                     ("bias", self.bias, True), ("padding_mode", repr(self.padding_mode), "'zeros'"))
            + ")"
        )
        pads = tuple((pb, pa + extra) for (pb, pa), extra in zip(sl.pads, sl.overhang))
        if isinstance(self.padding, str) and conv.same == "pytorch" and not any(sl.overhang):
            # Let PyTorch apply its own 'same'/'valid' rules.
            return TorchEmit(base.format(padding=f", padding={self.padding!r}"))
        if symmetric(pads):
            return TorchEmit(base.format(padding=kwargs(("padding", tup([p for p, _ in pads]), tup((0,) * n)))))
        mode = self.padding_mode
        return TorchEmit(
            f"nn.Sequential({pad_module(pads, mode)}, "
            + base.format(padding="").replace(f", padding_mode={mode!r}", "")
            + ")"
        )


def _check_wrap_padding(mode: str, x: Shape, pads: tuple[tuple[int, int], ...]) -> None:
    """PyTorch 2.13: reflect needs p < i, circular p <= i (conv-arithmetic.md section 1)."""
    for axis, i, (pb, pa) in zip(x.axis_names(), x.spatial, pads):
        p = max(pb, pa)
        if (mode == "reflect" and p >= i) or (mode == "circular" and p > i):
            need = "smaller than" if mode == "reflect" else "at most"
            raise ShapeError(
                f"{mode} padding {p} must be {need} the input size {i} ({axis})"
            )


@register
@frozen(kw_only=True)
class ConvTranspose(Op):
    """Transposed convolution. ``convT 64 k4 s2 p1``, ``convT 32 k3 s2 p1 op1``."""

    kind = "convT"
    aliases = ("convt", "convtranspose", "deconv", "conv_transpose", "deconvolution")
    family = "conv"
    summary = "transposed convolution"
    weighted = True

    out: int = arg("int", positional=True, aliases=("out_channels", "filters", "num_output"),
                   help="output channels")
    kernel: tuple[int, ...] = arg("sizes", short="k", aliases=("kernel_size",), help="kernel size")
    stride: tuple[int, ...] = arg("sizes", (1,), short="s", help="stride")
    padding: Padding = arg("padding", ((0, 0),), short="p", min=0,
                           help="rows removed from each end of the full output")
    output_padding: tuple[int, ...] = arg("sizes", (0,), short="op", min=0,
                                          help="extra rows added at the end (shape only)")
    dilation: tuple[int, ...] = arg("sizes", (1,), short="d", help="dilation")
    groups: int = arg("int", 1, short="g", help="groups")
    bias: bool = arg("bool", True, flags={"nobias": False}, help="learn a bias")

    def check(self) -> None:
        if self.out % self.groups:
            raise SpecError(
                f"convT: groups {self.groups} does not divide the {self.out} output channels"
            )

    def _geometry(self, x: Shape) -> tuple[tuple[int, ...], ...]:
        n = x.rank
        k = expand("convT", "kernel", self.kernel, n)
        s = expand("convT", "stride", self.stride, n)
        d = expand("convT", "dilation", self.dilation, n)
        op = expand("convT", "output_padding", self.output_padding, n)
        pads = expand_padding("convT", self.padding, n)  # type: ignore[arg-type]
        return k, s, d, op, tuple(p for p, _ in pads), tuple(p for _, p in pads)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        if x.rank < 1:
            raise ShapeError(f"convT needs spatial axes, but its input {x} is a vector")
        _rank_ok("convT", x)
        _check_groups("convT", x.channels, self.groups)
        k, s, d, op, pb, pa = self._geometry(x)
        sizes = []
        for axis, i, kk, ss, dd, oo, b, a in zip(x.axis_names(), x.spatial, k, s, d, op, pb, pa):
            if not (oo < ss or oo < dd):
                raise ShapeError(
                    f"output padding {oo} must be smaller than either the stride {ss} "
                    f"or the dilation {dd} ({axis})"
                )
            o = transposed_size(i, kk, ss, b, a, dd, oo, trace=ctx.trace, axis=axis)
            if o < 1:
                raise ShapeError(
                    f"output size is too small: {axis} = {o} (padding {b}+{a} removes more "
                    f"than the {o + b + a} rows the transposed kernel produces)"
                )
            sizes.append(o)
        out = Shape((self.out, *sizes))
        per_in = (self.out // self.groups) * math.prod(k)
        params = x.channels * per_in + (self.out if self.bias else 0)
        macs = math.prod(x.spatial) * x.channels * per_in
        if ctx.trace is not None:
            kern = "*".join(map(str, k))
            ctx.trace.step("C", "Cout (the layer's filters)", str(self.out), self.out)
            ctx.trace.step(
                "params",
                "Cin * (Cout/g) * prod(k)" + (" + Cout" if self.bias else ""),
                f"{x.channels} * ({self.out}/{self.groups}) * {kern}"
                + (f" + {self.out}" if self.bias else ""),
                params,
            )
            ctx.trace.step(
                "macs",
                "prod(input size) * Cin * (Cout/g) * prod(k)",
                f"{fmt_num(math.prod(x.spatial))} * {x.channels} * ({self.out}/{self.groups}) * {kern}",
                macs,
                note="counted on the input side: each input pixel meets each kernel weight once",
            )
        k_eff = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
        return Out(
            out,
            params=params,
            macs=macs,
            extras={"bias": out.numel} if self.bias else {},
            rf=Transposed(tuple(zip(k_eff, s, pb))),
            sizes=SizeRule((Fixed(self.out), *(
                TransposedWindow(n + 1, kk, ss, b, a, dd, oo)
                for n, (kk, ss, b, a, dd, oo) in enumerate(zip(k, s, pb, pa, d, op))
            ))),
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        x = ins[0]
        k, s, d, op, pb, pa = self._geometry(x)
        asym = pb != pa
        zeros, ones = tup((0,) * x.rank), tup((1,) * x.rank)
        module = (
            f"nn.ConvTranspose{x.rank}d({x.channels}, {self.out}, kernel_size={tup(k)}"
            + kwargs(("stride", tup(s), ones), ("padding", zeros if asym else tup(pb), zeros),
                     ("output_padding", tup(op), zeros), ("groups", self.groups, 1),
                     ("bias", self.bias, True), ("dilation", tup(d), ones))
            + ")"
        )
        if not asym:
            return TorchEmit(module)
        crops = ", ".join(f"{b}:{b + o}" for b, o in zip(pb, out.spatial))
        return TorchEmit(module, f"{{m}}({{0}})[:, :, {crops}]")


def connection_table(rows: Sequence[Sequence[int]]) -> str:
    """The ``table=`` text of a :class:`TableConv`: one group of input maps per output map.

    >>> connection_table([(0, 1, 2), (1, 2, 3), range(4)])
    '0+1+2,1+2+3,0+1+2+3'
    """
    return ",".join("+".join(str(i) for i in row) for row in rows)


@lru_cache(maxsize=64)
def _read_table(text: str) -> tuple[tuple[int, ...], ...]:
    """``'0+1+2,1+2+3'`` -> ((0, 1, 2), (1, 2, 3)); SpecError names the bad group."""
    rows = []
    for j, group in enumerate(text.split(",")):
        words = group.split("+")
        if not all(w.isdigit() for w in words):
            raise SpecError(
                f"tableconv: 'table' group {j} is {group!r}; write the input maps of each output "
                "map joined by '+', groups separated by ',' (e.g. table=0+1+2,1+2+3)"
            )
        row = tuple(int(w) for w in words)
        if len(set(row)) != len(row):
            raise SpecError(f"tableconv: 'table' group {j} lists an input map twice: {group!r}")
        rows.append(row)
    return tuple(rows)


@register
@frozen(kw_only=True)
class TableConv(Op):
    """Convolution with a connection table: output map j sees only the input maps of
    row j (LeNet-5's C3, LeCun et al. 1998, Table I). ``tableconv 3 k5 table=0+1,1+2,0+1+2``."""

    kind = "tableconv"
    aliases = ("partialconv", "connconv")
    family = "conv"
    summary = "convolution with a connection table (partial connections between maps)"
    weighted = True

    out: int = arg("int", positional=True, aliases=("out_channels", "num_output"), help="output channels")
    kernel: tuple[int, ...] = arg("sizes", short="k", aliases=("kernel_size",), help="kernel size")
    table: str = arg("str", aliases=("connections",),
                     help="input maps of each output map: 0+1+2,1+2+3,... (one group per output map)")
    stride: tuple[int, ...] = arg("sizes", (1,), short="s", help="stride")
    padding: Padding = arg("padding", ((0, 0),), short="p", min=0, help="padding per axis")
    bias: bool = arg("bool", True, flags={"nobias": False}, help="learn a bias")

    def check(self) -> None:
        rows = _read_table(self.table)
        if len(rows) != self.out:
            raise SpecError(
                f"tableconv: 'table' has {len(rows)} groups but 'out' is {self.out}; "
                "give one group of input maps per output map"
            )

    @property
    def rows(self) -> tuple[tuple[int, ...], ...]:
        """The input maps of each output map."""
        return _read_table(self.table)

    def _slide(self, x: Shape, ctx: Context) -> Slide:
        conv = ctx.convention
        return slide("tableconv", x, self.kernel, self.stride, self.padding, (1,),
                     conv.conv_rounding, "none", ctx,
                     same_style=conv.same, why_rounding=f"{conv.name} rounds convolutions up")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        _rank_ok("tableconv", x)
        highest = max(max(row) for row in self.rows)
        if highest >= x.channels:
            raise ShapeError(
                f"the connection table names input map {highest}, but the input has "
                f"{x.channels} maps (0..{x.channels - 1})"
            )
        sl = self._slide(x, ctx)
        out = Shape((self.out, *sl.out))
        window = math.prod(sl.kernel)
        links = sum(len(row) for row in self.rows)  # (input map, output map) pairs
        bias = self.out if self.bias else 0
        params = links * window + bias
        macs = math.prod(sl.out) * links * window
        if ctx.trace is not None:
            kern = "*".join(map(str, sl.kernel))
            ctx.trace.step("C", "Cout (the table's output maps)", str(self.out), self.out)
            ctx.trace.step("params", "sum_j |table_j| * prod(k)" + (" + Cout" if self.bias else ""),
                           f"{links} * {kern}" + (f" + {self.out}" if self.bias else ""), params,
                           note=f"{links} of the {x.channels * self.out} map pairs are connected")
            ctx.trace.step("macs", "prod(out size) * sum_j |table_j| * prod(k)",
                           f"{fmt_num(math.prod(sl.out))} * {links} * {kern}", macs)
        return Out(out, params=params, macs=macs,
                   extras={"bias": out.numel} if self.bias else {},
                   warnings=sl.warnings, rf=sl.rf)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # One single-output convolution per output map, on its own input maps, concatenated.
        x = ins[0]
        n = x.rank
        sl = self._slide(x, ctx)
        pads = tuple((pb, pa + extra) for (pb, pa), extra in zip(sl.pads, sl.overhang))
        ones = tup((1,) * n)
        convs = ", ".join(
            f"nn.Conv{n}d({len(row)}, 1, kernel_size={tup(sl.kernel)}"
            + kwargs(("stride", tup(sl.stride), ones), ("bias", self.bias, True)) + ")"
            for row in self.rows
        )
        source = "{0}"
        if any(p for pair in pads for p in pair):
            source = f"torch.nn.functional.pad({{0}}, {torch_pads(pads)})"
        parts = ", ".join(f"{{m}}[{j}]({source}[:, {list(row)}])" for j, row in enumerate(self.rows))
        return TorchEmit(f"nn.ModuleList([{convs}])", f"torch.cat([{parts}], dim=1)")
