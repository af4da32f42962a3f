"""Fully connected layers, ``linear`` (alias ``fc``) and ``rbf``, and the products of tensors:
``matmul``, ``einsum`` and scaled dot-product ``attention``.

As PyTorch's ``nn.Linear``, it acts on the last axis: a vector of F features
becomes ``out`` features; a ``C x H x W`` tensor keeps ``C x H`` and maps W.
Params ``F*out + out``; MACs ``rows*F*out`` where rows is the number of vectors.
On a map with spatial axes this is usually a forgotten ``flatten`` and is warned
about, unless the layer says ``pointwise``: applied at every position of a
channels-last map on purpose (ConvNeXt's MLP after ``permute 0 2 3 1``).

``attention`` is ``softmax(q k^T / sqrt(d)) v`` (PyTorch's
``scaled_dot_product_attention``): two matrix products, ``L*S*E`` MACs for the
scores and ``L*S*Ev`` for the weighted sum per batch entry, whatever the number
of heads (each of h heads does ``L*S*E/h``). ``einsum`` of two operands costs
one multiply-accumulate per combination of its indices, the product of all index
sizes (what ``torch.utils.flop_counter`` counts once torch has turned it into
matrix products).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from .._values import frozen
from ..errors import ShapeError, SpecError
from ..receptive import DROP, Collapse
from ..shape import Shape
from ..sizerules import Fixed, Keep, SizeRule
from ..trace import fmt_num
from .base import Context, Op, Out, TorchEmit, arg, register

__all__ = ["RBF", "Attention", "Einsum", "Linear", "MatMul"]


def _trace_last_axis(ctx: Context, x: Shape, out_features: int) -> None:
    """The output shape of a layer that maps the last axis to ``out_features``."""
    assert ctx.trace is not None
    last = "features" if x.rank == 0 else x.axis_names()[-1]
    ctx.trace.step(last, "out_features (the layer's argument)", str(out_features), out_features,
                   note=f"in_features = the last axis of the input {x} = {x.dims[-1]:,}")
    for name, size in zip(("C", *x.axis_names()), x.dims[:-1]):
        ctx.trace.step(name, f"{name} of the input (a linear layer maps the last axis only)", str(size), size)


@register
@frozen(kw_only=True)
class Linear(Op):
    """Fully connected layer on the last axis. ``linear 4096``, ``fc 10 nobias``."""

    kind = "linear"
    aliases = ("fc", "dense", "innerproduct", "inner_product", "gemm")
    family = "linear"
    summary = "fully connected layer (on the last axis)"
    weighted = True

    out: int = arg("int", positional=True, aliases=("out_features", "units", "num_output"))
    bias: bool = arg("bool", True, flags={"nobias": False})
    pointwise: bool = arg("bool", False, flags={"pointwise": True},
                          help="meant for every position of a channels-last map (no warning)")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        features = x.dims[-1]
        rows = x.numel // features
        out = Shape((*x.dims[:-1], self.out))
        params = features * self.out + (self.out if self.bias else 0)
        macs = rows * features * self.out
        warnings: tuple[str, ...] = ()
        if x.rank >= 2 and not self.pointwise:
            warnings = (
                f"linear acts on the last axis only ({features} of {x}), as PyTorch's Linear "
                f"does; to connect every input, flatten first (in_features {fmt_num(x.numel)}); "
                "if it is meant for every position, say 'pointwise'",
            )
        if ctx.trace is not None:
            _trace_last_axis(ctx, x, self.out)
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
            sizes=SizeRule((*(Keep(n) for n in range(len(x.dims) - 1)), Fixed(self.out))),
        )

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(f"nn.Linear({ins[0].dims[-1]}, {self.out}, bias={self.bias})")


@register
@frozen(kw_only=True)
class RBF(Op):
    """Euclidean radial basis units on the last axis, ``y_i = sum_j (x_j - w_ij)^2``
    (LeNet-5's output layer, LeCun et al. 1998, section II.B). ``rbf 10``; ``rbf 10 fixed``.

    ``F*out`` weights, no bias; ``fixed`` says they were chosen by hand and not trained
    (LeNet-5's +1/-1 codes), so they count as parameters but not as trainable ones.
    MACs ``rows*F*out``: one square and accumulate per weight.
    """

    kind = "rbf"
    aliases = ("euclidean_rbf",)
    family = "linear"
    summary = "Euclidean radial basis units (LeNet-5's output layer)"
    weighted = True

    out: int = arg("int", positional=True, aliases=("units", "num_output"))
    trainable: bool = arg("bool", True, flags={"fixed": False},
                          help="false (fixed): the weights are set by hand and not trained")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        x = ins[0]
        features = x.dims[-1]
        rows = x.numel // features
        out = Shape((*x.dims[:-1], self.out))
        weights = features * self.out
        macs = rows * weights
        if ctx.trace is not None:
            _trace_last_axis(ctx, x, self.out)
            ctx.trace.step("params", "in_features * units (no bias)", f"{features} * {self.out}", weights,
                           note="" if self.trainable else "fixed by hand: not trainable")
            ctx.trace.step("macs", "rows * in_features * units (a square and accumulate each)",
                           f"{rows} * {features} * {self.out}", macs)
        rf = DROP if x.rank == 0 else Collapse((len(x.dims) - 1,))
        return Out(out, params=weights, macs=macs, rf=rf,
                   trainable=None if self.trainable else 0, connections=macs)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        # The weights live in a bias-free Linear; fixed ones do not require grad.
        module = f"nn.Linear({ins[0].dims[-1]}, {self.out}, bias=False)"
        if not self.trainable:
            module += ".requires_grad_(False)"
        return TorchEmit(module, "(({0}.unsqueeze(-2) - {m}.weight) ** 2).sum(-1)")


@register
@frozen(kw_only=True)
class MatMul(Op):
    """Matrix product of two tensors, PyTorch's ``matmul`` (batch axes broadcast). ``matmul q k``."""

    kind = "matmul"
    aliases = ("bmm", "mm")
    family = "linear"
    summary = "matrix product of two tensors"
    arity = (2, 2)

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        a, b = ins
        if len(a.dims) < 2 or len(b.dims) < 2:
            raise ShapeError(f"matmul needs matrices (2 or more axes per sample): {a} and {b}")
        n, k = a.dims[-2:]
        k2, m = b.dims[-2:]
        if k != k2:
            raise ShapeError(f"matmul: {a} @ {b}: the inner sizes {k} and {k2} differ")
        batch = _broadcast_batch(a.dims[:-2], b.dims[:-2], a, b)
        out = Shape((*batch, n, m))
        macs = out.numel * k
        if ctx.trace is not None:
            ctx.trace.step("shape", "(batch axes broadcast) x n x m, from (.. x n x k) @ (.. x k x m)",
                           f"{a} @ {b}", str(out))
            ctx.trace.step("macs", "numel(out) * k", f"{fmt_num(out.numel)} * {k}", macs)
        return Out(out, macs=macs, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        return TorchEmit(None, "torch.matmul({0}, {1})")


def _broadcast_batch(x: tuple[int, ...], y: tuple[int, ...], a: Shape, b: Shape) -> tuple[int, ...]:
    if len(x) != len(y):
        raise ShapeError(f"matmul: {a} and {b} have different batch ranks per sample")
    dims = []
    for p, q in zip(x, y):
        if p != q and 1 not in (p, q):
            raise ShapeError(f"matmul: cannot broadcast the batch axes of {a} and {b}")
        dims.append(max(p, q))
    return tuple(dims)


@register
@frozen(kw_only=True)
class Attention(Op):
    """Scaled dot-product attention of queries, keys and values (an optional fourth input,
    a mask, costs nothing). ``attention q k v``, ``attention heads=12 q k v`` (the last
    axis holds the heads side by side, as in ``nn.MultiheadAttention``)."""

    kind = "attention"
    aliases = ("sdpa", "scaled_dot_product_attention")
    family = "linear"
    summary = "scaled dot-product attention"
    arity = (3, 4)

    heads: int | None = arg("int", None, aliases=("num_heads",),
                            help="heads packed in the last axis (None: already split)")

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        q, k, v = ins[:3]
        for name, x in (("queries", q), ("keys", k), ("values", v)):
            if len(x.dims) < 2:
                raise ShapeError(f"attention needs (..., length, features) {name}: {x}")
        length, width = q.dims[-2:]
        keys, key_width = k.dims[-2:]
        values, value_width = v.dims[-2:]
        if width != key_width:
            raise ShapeError(f"attention: queries {q} and keys {k} differ in features ({width} vs {key_width})")
        if keys != values:
            raise ShapeError(f"attention: {keys} keys but {values} values ({k} and {v})")
        if self.heads is not None and (width % self.heads or value_width % self.heads):
            raise ShapeError(
                f"attention: {self.heads} heads do not divide the features ({width} and {value_width})"
            )
        batch = _broadcast_batch(_broadcast_batch(q.dims[:-2], k.dims[:-2], q, k), v.dims[:-2], q, v)
        out = Shape((*batch, length, value_width))
        entries = math.prod(batch)
        macs = entries * length * keys * (width + value_width)
        if ctx.trace is not None:
            ctx.trace.step("shape", "(batch..., L, Ev): the queries' length, the values' features",
                           f"{q}, {k}, {v}", str(out))
            ctx.trace.step(
                "macs", "batch * L * S * (E + Ev)",
                f"{entries} * {length} * {keys} * ({width} + {value_width})", macs,
                note="scores q k^T, then their weighted sum of the values",
            )
        scores = entries * (self.heads or 1) * length * keys
        return Out(out, macs=macs, extras={"softmax": scores}, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        sdpa = "torch.nn.functional.scaled_dot_product_attention"
        if self.heads is None:
            return TorchEmit(None, f"{sdpa}({{0}}, {{1}}, {{2}})")
        split = f".unflatten(-1, ({self.heads}, -1)).transpose(-3, -2)"
        return TorchEmit(
            None, f"{sdpa}({{0}}{split}, {{1}}{split}, {{2}}{split}).transpose(-3, -2).flatten(-2)"
        )


_EQUATION = r"([a-zA-Z]+)(,[a-zA-Z]+)?->([a-zA-Z]*)"  # compiled when first used (re caches it): start-up


@register
@frozen(kw_only=True)
class Einsum(Op):
    """Einstein summation of one or two tensors, per sample (the batch axis left out).
    ``einsum eq=hid,hjd->hij q k``."""

    kind = "einsum"
    family = "linear"
    summary = "Einstein summation of one or two tensors"
    arity = (1, 2)

    equation: str = arg("str", aliases=("eq",), help="e.g. hid,hjd->hij (letters only, explicit ->)")

    def check(self) -> None:
        match = re.fullmatch(_EQUATION, self.equation)
        if match is None:
            raise SpecError(
                f"einsum: 'equation' must be like 'hid,hjd->hij' (letters, one or two operands, "
                f"an explicit '->'): {self.equation!r}"
            )
        lhs, _, rhs = self.equation.partition("->")
        if len(set(rhs)) != len(rhs) or not set(rhs) <= set(lhs.replace(",", "")):
            raise SpecError(f"einsum: the output '{rhs}' must use distinct letters of the inputs")

    def _sizes(self, ins: Sequence[Shape]) -> dict[str, int]:
        operands = self.equation.partition("->")[0].split(",")
        if len(operands) != len(ins):
            raise ShapeError(f"einsum {self.equation} takes {len(operands)} tensor(s), got {len(ins)}")
        sizes: dict[str, int] = {}
        for letters, x in zip(operands, ins):
            if len(letters) != len(x.dims):
                raise ShapeError(
                    f"einsum {self.equation}: '{letters}' names {len(letters)} axes, {x} has {len(x.dims)}"
                )
            for letter, size in zip(letters, x.dims):
                if sizes.setdefault(letter, size) != size:
                    raise ShapeError(
                        f"einsum {self.equation}: index '{letter}' is {sizes[letter]} in one tensor "
                        f"and {size} in another"
                    )
        return sizes

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        sizes = self._sizes(ins)
        rhs = self.equation.partition("->")[2]
        if not rhs:
            raise ShapeError(f"einsum {self.equation} sums each sample to a scalar; keep an axis")
        out = Shape(tuple(sizes[letter] for letter in rhs))
        macs = math.prod(sizes.values()) if len(ins) == 2 else 0
        if ctx.trace is not None:
            ctx.trace.step("shape", f"the sizes of the output's indices '{rhs}'",
                           ", ".join(f"{k}={v}" for k, v in sizes.items()), str(out))
            if macs:
                ctx.trace.step("macs", f"product of every index size ({' * '.join(sizes)})",
                               " * ".join(str(v) for v in sizes.values()), macs)
        return Out(out, macs=macs, rf=DROP)

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        free = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in self.equation)
        lhs, _, rhs = self.equation.partition("->")
        batched = ",".join(free + part for part in lhs.split(",")) + "->" + free + rhs
        args = ", ".join(f"{{{i}}}" for i in range(len(ins)))
        return TorchEmit(None, f"torch.einsum({batched!r}, {args})")
