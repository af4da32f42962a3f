"""What each PyTorch function becomes: a table from callables to node makers.

``HANDLERS[func] = (api name, handler)``; the api name ("F.relu", "Tensor.__add__")
is stored as the node's origin, which the counting presets of other tools read
(ptflops counts ``torch.add`` but not ``x + y``). A handler raises
``Unsupported`` where netarith cannot say the same thing; the call then becomes
an opaque node.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch

from .._values import replace
from ..ops.base import make
from ..shape import Shape
from ._torch_convert import Converter, Handler, Unsupported, Val, numel
from ._torch_trace import Call

__all__ = ["HANDLERS"]

F = torch.nn.functional
T = torch.Tensor


class Args:
    """A call's arguments bound to names (with defaults), Refs resolved to Vals."""

    def __init__(self, cv: Converter, e: Call, names: str, **defaults: Any) -> None:
        values: dict[str, Any] = dict(defaults)
        for name, value in zip(names.split(), e.args):
            values[name] = value
        values.update(e.kwargs)
        self.values = {k: cv.arg(v) for k, v in values.items()}

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def tensor(self, name: str) -> Val:
        value = self.values.get(name)
        if not isinstance(value, Val):
            raise Unsupported(f"'{name}' is not a tensor")
        return value


def origin_of(e: Call, api: str) -> str:
    """``function:F.layer_norm``, with ``@LayerNorm2d`` if it ran inside a leaf module."""
    return f"function:{api}@{e.within}" if e.within else f"function:{api}"


def _tuple(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),)


def _sizes(value: Any) -> tuple[int, ...]:
    """Per-axis sizes, written once when every axis has the same (``k3``, not ``k3x3``)."""
    sizes = _tuple(value)
    return sizes[:1] if len(set(sizes)) == 1 else sizes


def _dim(x: Val, dim: Any) -> int:
    nd = x.nd(int(dim))
    if nd is None:
        raise Unsupported("the call works along the batch axis")
    return nd


# -- elementwise ----------------------------------------------------------------------

def unary(kind: str, names: str = "input", **fixed: Callable[[Args], Any]) -> Handler:
    """An op of one tensor whose arguments come from the call (``F.leaky_relu(x, 0.2)``)."""
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, names)
        first = names.split()[0]
        op = make(kind, **{k: get(a) for k, get in fixed.items()})
        return [cv.emit(e.name, op, [a.tensor(first)], outs[0], origin_of(e, api))]
    return handle


def softmax(kind: str) -> Handler:
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, "input dim")
        x = a.tensor("input")
        if a["dim"] is None:
            raise Unsupported("softmax without a dim")
        return [cv.emit(e.name, make(kind, dim=_dim(x, a["dim"])), [x], outs[0], origin_of(e, api))]
    return handle


def _operands(cv: Converter, e: Call) -> tuple[list[Val], list[Any]]:
    """Tensor operands made nodes of one rank (constants aligned), and the scalars."""
    values = [cv.arg(v) for v in e.args]
    tensors = [v for v in values if isinstance(v, Val)]
    others = [v for v in values if not isinstance(v, Val)]
    batched = [v for v in tensors if v.batch is not None]
    rank = len(batched[0].shape.dims) if batched else max(len(v.shape.dims) for v in tensors)
    if any(len(v.shape.dims) != rank for v in batched):
        raise Unsupported("the operands differ in rank per sample")
    return [cv.node(v, rank) for v in tensors], others


def elementwise(kind: str | None = None) -> Handler:
    """``x + y`` is ``add``, ``x * y`` is ``mul`` (with a scalar, or any other function:
    ``elementwise op=NAME``)."""
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        tensors, _others = _operands(cv, e)
        if kind is not None and len(tensors) >= 2 and not e.kwargs.get("alpha"):
            op = make(kind)
        else:
            word = api.rpartition(".")[2].strip("_")
            op = make("elementwise", op=word or "call")
        return [cv.emit(e.name, op, tensors, outs[0], origin_of(e, api))]
    return handle


def setitem(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    target = cv.arg(e.args[0])
    value = cv.arg(e.args[2]) if len(e.args) > 2 else None
    if isinstance(value, Val):
        raise Unsupported("writing a tensor into part of another")
    return [cv.emit(e.name, make("elementwise", op="setitem"), [_base(target)], outs[0], origin_of(e, api))]


def _base(v: Any) -> Val:
    if not isinstance(v, Val):
        raise Unsupported("not a tensor")
    return v


# -- layers in functional form ----------------------------------------------------------

def conv(transposed: bool) -> Handler:
    names = ("input weight bias stride padding output_padding groups dilation" if transposed
             else "input weight bias stride padding dilation groups")

    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, names, stride=1, padding=0, dilation=1, groups=1, output_padding=0)
        x, w, b = a.tensor("input"), a.tensor("weight"), a["bias"]
        if not x.plain or not cv.fresh(w) or (b is not None and not cv.fresh(b)):
            raise Unsupported("a functional convolution whose weights are not its own parameters")
        k = _sizes(w.shape.dims[2:])
        pad = a["padding"]
        padding = pad if isinstance(pad, str) else tuple((p, p) for p in _sizes(pad))
        common = {"kernel": k, "stride": _sizes(a["stride"]), "padding": padding,
                  "dilation": _sizes(a["dilation"]), "groups": int(a["groups"]), "bias": b is not None}
        if transposed:
            op = make("convT", out=w.shape.dims[1] * int(a["groups"]),
                                   output_padding=_sizes(a["output_padding"]), **common)
        else:
            op = make("conv", out=w.shape.dims[0], **common)
        made = cv.emit(_owner(e.name, w), op, [x], outs[0], origin_of(e, api), numel(w, b))
        cv.take(w, b)
        return [made]
    return handle


def _owner(name: str, weight: Val) -> str:
    """A functional layer is named after the module that owns its weight, if any."""
    if weight.source is not None and "." in weight.source.path:
        return weight.source.path.rpartition(".")[0]
    return name


def linear(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input weight bias")
    x, w, b = a.tensor("input"), a.tensor("weight"), a["bias"]
    if x.batch is not None and x.axis(len(x.full) - 1) is None:
        raise Unsupported("a linear layer on the batch axis")
    if not cv.fresh(w):
        raise Unsupported("a linear layer whose weight is not its own parameter")
    own_bias = b is not None and cv.fresh(b)
    op = make("linear", out=w.shape.dims[0], bias=own_bias)
    name = _owner(e.name, w)
    made = cv.emit(name, op, [x], outs[0], origin_of(e, api), numel(w, b if own_bias else None))
    cv.take(w, b if own_bias else None)
    if b is not None and not own_bias:
        # The bias is computed (Swin V2 zeroes part of it): add it as a tensor.
        made = cv.emit(f"{made.node}@bias", make("add"), [made, cv.node(b, len(made.shape.dims))],
                       outs[0], origin_of(e, api))
    return [made]


def batch_norm(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input running_mean running_var weight bias training momentum eps", eps=1e-5)
    x, w, b = a.tensor("input"), a["weight"], a["bias"]
    affine = w is not None and b is not None
    stats = a["running_mean"] is not None
    if not x.plain or (affine and not (cv.fresh(w) and cv.fresh(b))):
        raise Unsupported("batch norm with weights that are not its own parameters")
    op = make("bn", affine=affine, stats=stats, eps=float(a["eps"]))
    made = cv.emit(_owner(e.name, w) if affine else e.name, op, [x], outs[0], origin_of(e, api), numel(w, b))
    cv.take(w, b, a["running_mean"], a["running_var"])
    return [made]


def layer_norm(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input normalized_shape weight bias eps", eps=1e-5)
    x, w, b = a.tensor("input"), a["weight"], a["bias"]
    if any(v is not None and not cv.fresh(v) for v in (w, b)):
        raise Unsupported("layer norm with weights that are not its own parameters")
    dims = len(_tuple(a["normalized_shape"]))
    if x.batch is not None and any(x.axis(len(x.full) - 1 - i) is None for i in range(dims)):
        raise Unsupported("layer norm over the batch axis")
    op = make("ln", dims=dims, affine=w is not None, bias=b is not None or w is None, eps=float(a["eps"]))
    made = cv.emit(_owner(e.name, w) if w is not None else e.name, op, [x], outs[0], origin_of(e, api), numel(w, b))
    cv.take(w, b)
    return [made]


def group_norm(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input num_groups weight bias eps", eps=1e-5)
    x, w, b = a.tensor("input"), a["weight"], a["bias"]
    if not x.plain or (w is not None) != (b is not None) or any(v is not None and not cv.fresh(v) for v in (w, b)):
        raise Unsupported("group norm with weights that are not its own parameters")
    op = make("gn", groups=int(a["num_groups"]), affine=w is not None, eps=float(a["eps"]))
    made = cv.emit(_owner(e.name, w) if w is not None else e.name, op, [x], outs[0], origin_of(e, api), numel(w, b))
    cv.take(w, b)
    return [made]


def pool(kind: str) -> Handler:
    names = ("input kernel_size stride padding dilation ceil_mode return_indices" if kind == "maxpool"
             else "input kernel_size stride padding ceil_mode count_include_pad divisor_override")

    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, names, padding=0, dilation=1, ceil_mode=False, count_include_pad=True)
        x = a.tensor("input")
        if not x.plain or a["return_indices"]:
            raise Unsupported("pooling that returns indices or works on another layout")
        k = _sizes(a["kernel_size"])
        stride = a["stride"]
        args: dict[str, Any] = {
            "kernel": k, "stride": _sizes(stride) if stride not in (None, [], ()) else None,
            "padding": tuple((p, p) for p in _sizes(a["padding"])),
            "rounding": "ceil" if a["ceil_mode"] else None,
        }
        if kind == "maxpool":
            args["dilation"] = _sizes(a["dilation"])
        else:
            args["count_include_pad"] = bool(a["count_include_pad"])
            args["divisor"] = a["divisor_override"]
        return [cv.emit(e.name, make(kind, **args), [x], outs[0], origin_of(e, api))]
    return handle


def adaptive(kind: str) -> Handler:
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, "input output_size return_indices")
        x, size = a.tensor("input"), a["output_size"]
        sizes = size if isinstance(size, (tuple, list)) else (size,)
        if not x.plain or a["return_indices"] or any(s is None for s in sizes):
            raise Unsupported("adaptive pooling with open sizes or indices")
        return [cv.emit(e.name, make(kind, size=_sizes(sizes)), [x], outs[0], origin_of(e, api))]
    return handle


def interpolate(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input size scale_factor mode align_corners", mode="nearest")
    x = a.tensor("input")
    if not x.plain or a["mode"] not in ("nearest", "linear", "bilinear", "bicubic", "trilinear"):
        raise Unsupported(f"interpolation mode {a['mode']}")
    scale = a["scale_factor"]
    factors = None if scale is None else tuple(
        Fraction(str(float(f))) for f in (scale if isinstance(scale, (tuple, list)) else (scale,)))
    size = None if a["size"] is None else _tuple(a["size"])
    op = make("upsample", scale=factors, size=size, mode=a["mode"], align_corners=a["align_corners"])
    return [cv.emit(e.name, op, [x], outs[0], origin_of(e, api))]


def pad(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input pad mode value", mode="constant", value=0.0)
    x = a.tensor("input")
    flat = _tuple(a["pad"])
    if not any(flat):
        return [cv.emit(e.name, make("identity"), [x], outs[0], origin_of(e, api))]
    pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)][::-1]
    if not x.plain or len(pairs) > x.shape.rank or min(flat) < 0:
        raise Unsupported("padding that reaches the channels or crops")
    pairs = [(0, 0)] * (x.shape.rank - len(pairs)) + pairs
    mode = {"constant": "zeros"}.get(a["mode"], a["mode"])
    op = make("pad", padding=tuple(pairs), mode=mode, value=float(a["value"] or 0.0))
    return [cv.emit(e.name, op, [x], outs[0], origin_of(e, api))]


# -- products ------------------------------------------------------------------------

def matmul(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    tensors, _ = _operands(cv, e)
    if len(tensors) != 2 or min(len(t.full) for t in (cv.arg(e.args[0]), cv.arg(e.args[1]))) < 2:
        raise Unsupported("matmul of vectors")
    return [cv.emit(e.name, make("matmul"), tensors, outs[0], origin_of(e, api))]


def einsum(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    equation = str(e.args[0]).replace(" ", "")
    operands = [cv.arg(v) for v in (e.args[1] if len(e.args) == 2 and isinstance(e.args[1], (list, tuple))
                                    else e.args[1:])]
    lhs, arrow, rhs = equation.partition("->")
    if not arrow or "." in equation:
        raise Unsupported("einsum without an explicit output or with '...'")
    terms = lhs.split(",")
    batch: set[str] = set()
    for term, v in zip(terms, operands):
        v = _base(v)
        if v.batch is not None and v.dropped:
            batch.add(term[v.batch])
    out = outs[0]
    if out.batch is not None and out.dropped:
        batch.add(rhs[out.batch])
    if len(batch) > 1:
        raise Unsupported("einsum whose operands hold the batch on different letters")
    drop = "".join(batch)
    per = ",".join(t.replace(drop, "") if drop else t for t in terms) + "->" + (rhs.replace(drop, "") if drop else rhs)
    op = make("einsum", equation=per)
    return [cv.emit(e.name, op, [cv.node(_base(v)) for v in operands], out, origin_of(e, api))]


def attention(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "query key value attn_mask dropout_p is_causal scale")
    qkv = [a.tensor(n) for n in ("query", "key", "value")]
    rank = max(len(v.shape.dims) for v in qkv)
    ins = [cv.node(v, rank) for v in qkv]
    if isinstance(a["attn_mask"], Val):
        ins.append(cv.node(a["attn_mask"]))
    return [cv.emit(e.name, make("attention"), ins, outs[0], origin_of(e, api))]


def multi_head(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    """``F.multi_head_attention_forward``: projections, attention, output projection."""
    a = Args(cv, e, "query key value embed_dim_to_check num_heads in_proj_weight in_proj_bias bias_k bias_v "
                    "add_zero_attn dropout_p out_proj_weight out_proj_bias training key_padding_mask "
                    "need_weights attn_mask use_separate_proj_weight q_proj_weight k_proj_weight v_proj_weight")
    if a["bias_k"] is not None or a["add_zero_attn"] or a["use_separate_proj_weight"]:
        raise Unsupported("multi-head attention with bias_k, add_zero_attn or separate projections")
    heads, q, k, v = int(a["num_heads"]), a.tensor("query"), a.tensor("key"), a.tensor("value")
    w, b = a.tensor("in_proj_weight"), a["in_proj_bias"]
    ow, ob = a.tensor("out_proj_weight"), a["out_proj_bias"]
    if not all(cv.fresh(p) for p in (w, ow, *(x for x in (b, ob) if x is not None))):
        raise Unsupported("multi-head attention whose weights are not its own parameters")
    base = _owner(e.name, w)
    width = w.shape.dims[0] // 3
    projected = []
    for part, x in zip("qkv", (q, k, v)):
        shape = Shape((*x.shape.dims[:-1], width))
        want = replace(x, node="", shape=shape, source=None)
        op = make("linear", out=width, bias=b is not None)
        projected.append(cv.emit(f"{base}.{part}", op, [x], want, origin_of(e, api), (numel(w) + numel(b)) // 3))
    cv.take(w, b)
    attended = replace(projected[0], node="")
    attended = cv.emit(f"{base}.attention", make("attention", heads=heads), projected, attended, origin_of(e, api))
    out = cv.emit(_owner(f"{base}.out_proj", ow) if ow.source and ow.source.path.endswith(".weight") else
                  f"{base}.out_proj", make("linear", out=ow.shape.dims[0], bias=ob is not None),
                  [attended], outs[0], origin_of(e, api), numel(ow, ob))
    cv.take(ow, ob)
    return [out, *[replace(o, node=out.node) for o in outs[1:]]] if len(outs) > 1 else [out]


# -- data movement -----------------------------------------------------------------------

def move(cv: Converter, e: Call, name: str, x: Val, out: Val, api: str) -> Val:
    """A node that only moves data: identity, or a reshape to the per-sample shape."""
    if x.shape == out.shape:
        return cv.emit(name, make("identity"), [x], out, origin_of(e, api))
    if x.shape.numel != out.shape.numel:
        raise Unsupported(f"moving {x.shape} to {out.shape} changes the number of elements per sample")
    return cv.emit(name, make("reshape", shape=out.shape.dims), [x], out, origin_of(e, api))


def reshape(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    return [move(cv, e, e.name, _base(cv.arg(e.args[0])), outs[0], api)]


def flatten(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    a = Args(cv, e, "input start_dim end_dim", start_dim=0, end_dim=-1)
    x = a.tensor("input")
    start, end = x.nd(int(a["start_dim"])), x.nd(int(a["end_dim"]))
    if start is not None and end is not None and x.batch is not None:
        return [cv.emit(e.name, make("flatten", start=start, end=end), [x], outs[0], origin_of(e, api))]
    return [move(cv, e, e.name, x, outs[0], api)]


def permute(swap: bool) -> Handler:
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        x = _base(cv.arg(e.args[0]))
        rank = len(x.full)
        if swap:
            d0, d1 = (int(d) % rank for d in (list(e.args[1:3]) or [e.kwargs.get("dim0"), e.kwargs.get("dim1")]))
            order = list(range(rank))
            order[d0], order[d1] = order[d1], order[d0]
        else:
            dims = e.args[1] if len(e.args) == 2 and isinstance(e.args[1], (list, tuple)) else \
                e.args[1:] or e.kwargs.get("dims") or ()
            order = [int(d) % rank for d in dims]
        per = _sample_order(x, outs[0], order)
        if per is None or per == list(range(len(per))):
            return [move(cv, e, e.name, x, outs[0], api)]
        op = make("permute", order=(0, *[p + 1 for p in per]))
        return [cv.emit(e.name, op, [x], outs[0], origin_of(e, api))]
    return handle


def _sample_order(x: Val, out: Val, order: list[int]) -> list[int] | None:
    """The permutation of per-sample axes, when the batch stays put in the sense netarith needs."""
    per = []
    for position, source in enumerate(order):
        if out.batch is not None and out.dropped and position == out.batch:
            if not (x.batch == source and x.dropped):
                return None
            continue
        axis = x.axis(source)
        if axis is None:
            return None
        per.append(axis)
    return per if sorted(per) == list(range(len(x.shape.dims))) else None


def identity(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    x = _base(cv.arg(e.args[0] if e.args else e.kwargs.get("input")))
    return [move(cv, e, e.name, x, outs[0], api)]


def expand(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    x = _base(cv.arg(e.args[0]))
    out = outs[0]
    if x.shape.numel == out.shape.numel:
        return [move(cv, e, e.name, x, out, api)]
    rank = len(out.shape.dims)
    return [cv.emit(e.name, make("expand", shape=out.shape), [cv.node(x, rank) if x.batch is None else x],
                    out, origin_of(e, api))]


def split(kind: str) -> Handler:
    """``chunk``, ``split``, ``unbind``: one slice (or select) node per part."""
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        x = _base(cv.arg(e.args[0]))
        if kind == "unbind":
            dim = int(e.args[1]) if len(e.args) > 1 else int(e.kwargs.get("dim", 0))
        else:
            dim = int(e.args[2]) if len(e.args) > 2 else int(e.kwargs.get("dim", 0))
        nd = _dim(x, dim)
        made, start = [], 0
        for k, out in enumerate(outs):
            name = f"{e.name}[{k}]"
            if kind == "unbind":
                op = make("select", dim=nd, index=k)
            else:
                length = out.full[dim % len(x.full)]
                op = make("slice", dim=nd, start=start, end=start + length)
                start += length
            made.append(cv.emit(name, op, [x], out, origin_of(e, api)))
        return made
    return handle


def getitem(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    """``x[..., 0::2, :]``, ``x[:, 0]``, ``table[index]``: a chain of slice/select/index nodes."""
    x = _base(cv.arg(e.args[0]))
    index = e.args[1] if isinstance(e.args[1], tuple) else (e.args[1],)
    index = cv.arg(index)
    if any(i is None or isinstance(i, (bool, list, tuple)) for i in index):
        raise Unsupported("indexing with None, booleans or lists")
    if index.count(Ellipsis) > 1:
        raise Unsupported("more than one Ellipsis")
    rank = len(x.full)
    tensors = [i for i in index if isinstance(i, Val)]
    if Ellipsis in index:
        at = index.index(Ellipsis)
        fill = rank - (len(index) - 1) + sum(0 for i in tensors)
        index = index[:at] + (slice(None),) * fill + index[at + 1:]
    steps: list[tuple[int, Any]] = [(d, i) for d, i in enumerate(index) if i != slice(None)]
    if tensors:
        if len(steps) != 1 or not isinstance(steps[0][1], Val):
            raise Unsupported("indexing with a tensor and other items")
        d, idx = steps[0]
        op = make("index", dim=_dim(x, d))
        return [cv.emit(e.name, op, [x, cv.node(idx)], outs[0], origin_of(e, api))]
    current, batch = x, x.batch
    for n, (d, item) in enumerate(reversed(steps)):
        final = n == len(steps) - 1
        name = e.name if final else f"{e.name}/{n + 1}"
        nd = _dim(current, d)
        if isinstance(item, slice):
            op = make("slice", dim=nd, start=item.start or 0, end=item.stop, step=item.step or 1)
        else:
            op = make("select", dim=nd, index=int(item))
        if final:
            current = cv.emit(name, op, [current], outs[0], origin_of(e, api))
        else:
            shape = op.infer([cv.node(current).shape], cv.ctx).shape
            full = _full_after(current.full, d, item)
            if isinstance(item, int) and batch is not None and d < batch:
                batch -= 1
            want = replace(current, node="", shape=shape, full=full, batch=batch, source=None)
            current = cv.emit(name, op, [current], want, origin_of(e, api))
    if not steps:
        current = move(cv, e, e.name, x, outs[0], api)
    return [current]


def _full_after(full: tuple[int, ...], d: int, item: Any) -> tuple[int, ...]:
    if isinstance(item, slice):
        size = len(range(*item.indices(full[d])))
        return (*full[:d], size, *full[d + 1:])
    return full[:d] + full[d + 1:]


def concat(stack: bool) -> Handler:
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, "tensors dim", dim=0)
        items = [_base(v) for v in a["tensors"]]
        ref = next((v for v in items if v.batch is not None), items[0])
        rank = len(ref.shape.dims)
        ins = [cv.node(v, rank) for v in items]
        dim = _dim(ref, int(a["dim"]))
        if stack:
            raise Unsupported("torch.stack")
        return [cv.emit(e.name, make("concat", dim=dim), ins, outs[0], origin_of(e, api))]
    return handle


def reduce(op_name: str) -> Handler:
    def handle(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
        a = Args(cv, e, "input dim keepdim", keepdim=False)
        x, dims = a.tensor("input"), a["dim"]
        if dims is None or len(outs) != 1:
            raise Unsupported(f"{op_name} over every axis (the batch included) or with indices")
        nds = tuple(_dim(x, d) for d in _tuple(dims))
        op = make("reduce", dims=nds, op=op_name, keep=bool(a["keepdim"]))
        return [cv.emit(e.name, op, [x], outs[0], origin_of(e, api))]
    return handle


def constant(cv: Converter, e: Call, outs: list[Val], api: str) -> list[Val]:
    """A tensor made in ``forward`` (``torch.zeros``, ``x.new_zeros``): a constant."""
    out = outs[0]
    return [replace(out, node=cv.add(e.name, make("tensor", shape=out.shape), [], origin_of(e, api)))]


def _table() -> dict[Any, tuple[str, Handler]]:
    table: dict[Any, tuple[str, Handler]] = {}

    def put(handler: Handler, *funcs: tuple[Any, str]) -> None:
        for func, api in funcs:
            if func is not None:
                table[func] = (api, handler)

    simple = {"relu": (F.relu, torch.relu, T.relu, F.relu_, torch.relu_, T.relu_),
              "relu6": (F.relu6,), "silu": (F.silu,), "sigmoid": (torch.sigmoid, T.sigmoid, F.sigmoid),
              "tanh": (torch.tanh, T.tanh, F.tanh), "hardswish": (F.hardswish,),
              "hardsigmoid": (F.hardsigmoid,), "mish": (F.mish,), "softplus": (F.softplus,)}
    for kind, funcs in simple.items():
        for func in funcs:
            put(unary(kind), (func, _api(func)))
    put(unary("gelu", "input approximate", approximate=lambda a: a["approximate"] or "none"), (F.gelu, "F.gelu"))
    put(unary("leakyrelu", "input negative_slope", slope=lambda a: float(a["negative_slope"] or 0.01)),
        (F.leaky_relu, "F.leaky_relu"))
    put(unary("elu", "input alpha", alpha=lambda a: float(a["alpha"] or 1.0)), (F.elu, "F.elu"))
    for func in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout):
        put(unary("dropout", "input p", p=lambda a: float(0.5 if a["p"] is None else a["p"])), (func, _api(func)))
    put(softmax("softmax"), (F.softmax, "F.softmax"), (torch.softmax, "torch.softmax"), (T.softmax, "Tensor.softmax"))
    put(softmax("logsoftmax"), (F.log_softmax, "F.log_softmax"), (torch.log_softmax, "torch.log_softmax"),
        (T.log_softmax, "Tensor.log_softmax"))
    put(elementwise("add"), *[(f, _api(f)) for f in (torch.add, T.add, T.add_, T.__add__, T.__radd__, T.__iadd__)])
    put(elementwise("mul"), *[(f, _api(f)) for f in (torch.mul, T.mul, T.mul_, T.__mul__, T.__rmul__, T.__imul__)])
    others = (torch.sub, T.sub, T.sub_, T.__sub__, T.__rsub__, T.__isub__, torch.div, T.div, T.div_,
              T.__truediv__, T.__rtruediv__, T.__itruediv__, torch.exp, T.exp, torch.log, T.log, torch.sqrt,
              T.sqrt, torch.rsqrt, T.rsqrt, torch.abs, T.abs, T.__neg__, torch.neg, torch.pow, T.pow,
              T.__pow__, torch.clamp, T.clamp, T.clamp_, torch.clip, T.masked_fill, T.masked_fill_,
              torch.where, T.ne, T.__ne__, T.eq, T.__eq__, torch.eq, T.__lt__, T.__gt__, T.__le__, T.__ge__,
              torch.maximum, torch.minimum, torch.sign, T.sign, torch.log2, T.__and__, T.__or__, T.zero_,
              T.fill_, T.float, T.type_as, F.normalize, torch.erf, torch.cos, torch.sin, T.reciprocal,
              torch.reciprocal, T.square, torch.square)
    put(elementwise(), *[(f, _api(f)) for f in others])
    put(setitem, (T.__setitem__, "Tensor.__setitem__"))
    put(conv(False), *[(f, _api(f)) for f in (F.conv1d, F.conv2d, F.conv3d)])
    put(conv(True), *[(f, _api(f)) for f in (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)])
    put(linear, (F.linear, "F.linear"))
    put(batch_norm, (F.batch_norm, "F.batch_norm"))
    put(layer_norm, (F.layer_norm, "F.layer_norm"))
    put(group_norm, (F.group_norm, "F.group_norm"))
    put(pool("maxpool"), *[(f, _api(f)) for f in (F.max_pool1d, F.max_pool2d, F.max_pool3d)])
    put(pool("avgpool"), *[(f, _api(f)) for f in (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)])
    put(adaptive("adaptiveavgpool"), *[(f, _api(f)) for f in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
                                                               F.adaptive_avg_pool3d)])
    put(adaptive("adaptivemaxpool"), *[(f, _api(f)) for f in (F.adaptive_max_pool1d, F.adaptive_max_pool2d,
                                                               F.adaptive_max_pool3d)])
    put(interpolate, (F.interpolate, "F.interpolate"), (F.upsample, "F.upsample"))
    put(pad, (F.pad, "F.pad"))
    put(matmul, *[(f, _api(f)) for f in (torch.matmul, T.matmul, T.__matmul__, torch.bmm, T.bmm, torch.mm, T.mm)])
    put(einsum, (torch.einsum, "torch.einsum"))
    put(attention, (F.scaled_dot_product_attention, "F.scaled_dot_product_attention"))
    put(multi_head, (F.multi_head_attention_forward, "F.multi_head_attention_forward"))
    put(reshape, *[(f, _api(f)) for f in (T.view, T.reshape, torch.reshape, T.view_as, T.reshape_as, T.unflatten,
                                          torch.unflatten, T.squeeze, torch.squeeze, T.unsqueeze, torch.unsqueeze)])
    put(flatten, (torch.flatten, "torch.flatten"), (T.flatten, "Tensor.flatten"))
    put(permute(False), (T.permute, "Tensor.permute"), (torch.permute, "torch.permute"))
    put(permute(True), *[(f, _api(f)) for f in (T.transpose, torch.transpose, T.swapaxes, torch.swapaxes,
                                                T.swapdims, torch.swapdims)])
    put(identity, *[(f, _api(f)) for f in (T.contiguous, T.clone, torch.clone, T.detach, T.to, torch.roll,
                                           T.roll)])
    put(expand, (T.expand, "Tensor.expand"), (T.expand_as, "Tensor.expand_as"), (T.repeat, "Tensor.repeat"))
    put(split("chunk"), (T.chunk, "Tensor.chunk"), (torch.chunk, "torch.chunk"))
    put(split("split"), (T.split, "Tensor.split"), (torch.split, "torch.split"))
    put(split("unbind"), (T.unbind, "Tensor.unbind"), (torch.unbind, "torch.unbind"))
    put(getitem, (T.__getitem__, "Tensor.__getitem__"))
    put(concat(False), (torch.cat, "torch.cat"), (torch.concat, "torch.concat"),
        (torch.concatenate, "torch.concatenate"))
    put(concat(True), (torch.stack, "torch.stack"))
    for word in ("mean", "sum", "amax", "amin", "std", "var", "logsumexp"):
        put(reduce(word), *[(f, _api(f)) for f in (getattr(torch, word), getattr(T, word))])
    factories = (torch.zeros, torch.ones, torch.empty, torch.full, torch.arange, torch.eye, torch.linspace,
                 torch.tensor, torch.zeros_like, torch.ones_like, torch.empty_like, torch.full_like,
                 T.new_zeros, T.new_ones, T.new_empty, T.new_full, T.new_tensor, torch.rand, torch.randn)
    put(constant, *[(f, _api(f)) for f in factories])
    return table


def _api(func: Any) -> str:
    """``F.relu``, ``torch.add``, ``Tensor.__add__``: how the model called it."""
    name = getattr(func, "__name__", "call")
    qual = getattr(func, "__qualname__", name)
    if getattr(F, name, None) is func:
        return f"F.{name}"
    if qual.startswith(("TensorBase.", "Tensor.")) or getattr(func, "__objclass__", None) in (T, torch._C.TensorBase):
        return f"Tensor.{name}"
    return f"torch.{name}"


HANDLERS: dict[Any, tuple[str, Handler]] = _table()

