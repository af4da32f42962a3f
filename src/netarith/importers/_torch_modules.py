"""PyTorch modules netarith reads as one layer, and the op each becomes.

A module is read whole only when its class (or a subclass that keeps its
``forward``, like ``NonDynamicallyQuantizableLinear``) is listed here; any other
module is traced call by call. The importer also checks that the op counts the
module's own parameters (:func:`counts_alike`), so a subclass that adds one is
traced instead of miscounted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from torch import nn

from ..conventions import get_convention
from ..errors import NetarithError
from ..ops.base import Context, Op, Out, make
from ..shape import Shape

__all__ = ["DimMap", "Inferred", "base_class", "counts_alike", "module_op", "origin", "parameters"]

#: maps a PyTorch dim of the full tensor to netarith's (batch = 0), None for the batch itself
DimMap = Callable[[int], "int | None"]


#: ops made for modules, by kind and arguments written out. Modules alike share one op (ops
#: are immutable): made and checked once (a convolution's takes 7 us), and found repeated by
#: identity in the analysis. ``repr`` tells 1, 1.0 and True apart, as the checks do; an argument
#: whose repr is ``<...>`` (an object's, which may name a reused address) is not kept.
_OPS: dict[str, Op] = {}


def _op(kind: str, **args: Any) -> Op:
    """``make(kind, **args)``, the same op for the same arguments."""
    key = f"{kind}{args!r}"
    op = _OPS.get(key)
    if op is None:
        op = make(kind, **args)
        if "<" not in key:
            if len(_OPS) >= 4096:
                _OPS.clear()
            _OPS[key] = op
    return op


def _pairs(value: Any, n: int) -> tuple[tuple[int, int], ...]:
    return tuple((v, v) for v in _sizes(value))


def _sizes(value: Any) -> tuple[int, ...]:
    """Per-axis sizes, written once when every axis has the same (``k3``, not ``k3x3``)."""
    sizes = tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),)
    return sizes[:1] if len(set(sizes)) == 1 else sizes


def _conv(m: Any, x: Shape, dims: DimMap) -> Op:
    padding = m.padding if isinstance(m.padding, str) else _pairs(m.padding, len(m.kernel_size))
    return _op("conv", out=m.out_channels, kernel=_sizes(m.kernel_size), stride=_sizes(m.stride),
                            padding=padding, dilation=_sizes(m.dilation), groups=m.groups,
                            bias=m.bias is not None, padding_mode=m.padding_mode)


def _conv_t(m: Any, x: Shape, dims: DimMap) -> Op | None:
    if m.padding_mode != "zeros":
        return None
    return _op("convT", out=m.out_channels, kernel=_sizes(m.kernel_size), stride=_sizes(m.stride),
                             padding=_pairs(m.padding, len(m.kernel_size)),
                             output_padding=_sizes(m.output_padding), dilation=_sizes(m.dilation),
                             groups=m.groups, bias=m.bias is not None)


def _bn(m: Any, x: Shape, dims: DimMap) -> Op:
    momentum = 0.1 if m.momentum is None else float(m.momentum)
    return _op("bn", affine=m.affine, stats=m.track_running_stats, eps=float(m.eps), momentum=momentum)


def _ln(m: Any, x: Shape, dims: DimMap) -> Op:
    affine = bool(m.elementwise_affine)
    return _op("ln", dims=len(m.normalized_shape), affine=affine,
                          bias=getattr(m, "bias", None) is not None if affine else True, eps=float(m.eps))


def _pool(kind: str) -> Callable[[Any, Shape, DimMap], Op | None]:
    def build(m: Any, x: Shape, dims: DimMap) -> Op | None:
        if getattr(m, "return_indices", False):
            return None
        kernel = _sizes(m.kernel_size)
        stride = None if m.stride is None else _sizes(m.stride)
        args: dict[str, Any] = {"kernel": kernel, "stride": stride, "padding": _pairs(m.padding, len(kernel)),
                                "rounding": "ceil" if m.ceil_mode else None}
        if kind == "maxpool":
            args["dilation"] = _sizes(m.dilation)
        else:
            args["count_include_pad"] = m.count_include_pad
            args["divisor"] = getattr(m, "divisor_override", None)
        return _op(kind, **args)
    return build


def _adaptive(kind: str) -> Callable[[Any, Shape, DimMap], Op | None]:
    def build(m: Any, x: Shape, dims: DimMap) -> Op | None:
        size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,)
        if getattr(m, "return_indices", False) or any(s is None for s in size):
            return None
        return _op(kind, size=_sizes(size))
    return build


def _upsample(m: Any, x: Shape, dims: DimMap) -> Op | None:
    if m.mode not in ("nearest", "linear", "bilinear", "bicubic", "trilinear"):
        return None
    scale = None
    if m.scale_factor is not None:
        factors = m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else (m.scale_factor,)
        scale = tuple(Fraction(str(float(f))) for f in factors)
    size = None if m.size is None else _sizes(m.size)
    return _op("upsample", scale=scale, size=size, mode=m.mode, align_corners=m.align_corners)


def _pad(mode: str) -> Callable[[Any, Shape, DimMap], Op | None]:
    def build(m: Any, x: Shape, dims: DimMap) -> Op | None:
        flat = list(m.padding)
        pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)][::-1]  # F.pad lists the last axis first
        if len(pairs) > x.rank or any(v < 0 for v in flat):
            return None
        pairs = [(0, 0)] * (x.rank - len(pairs)) + pairs
        return _op("pad", padding=tuple(pairs), mode=mode, value=float(getattr(m, "value", 0.0)))
    return build


def _dim_op(kind: str) -> Callable[[Any, Shape, DimMap], Op | None]:
    def build(m: Any, x: Shape, dims: DimMap) -> Op | None:
        if m.dim is None:
            return None
        dim = dims(m.dim)
        return None if dim is None else _op(kind, dim=dim)
    return build


def _flatten(m: Any, x: Shape, dims: DimMap) -> Op | None:
    start, end = dims(m.start_dim), dims(m.end_dim)
    if start is None or end is None:
        return None
    return _op("flatten", start=start, end=end)


def _simple(kind: str, **fixed: Callable[[Any], Any]) -> Callable[[Any, Shape, DimMap], Op]:
    def build(m: Any, x: Shape, dims: DimMap) -> Op:
        return _op(kind, **{name: get(m) for name, get in fixed.items()})
    return build


_BUILDERS: dict[type, Callable[[Any, Shape, DimMap], Op | None]] = {
    nn.Conv1d: _conv, nn.Conv2d: _conv, nn.Conv3d: _conv,
    nn.ConvTranspose1d: _conv_t, nn.ConvTranspose2d: _conv_t, nn.ConvTranspose3d: _conv_t,
    nn.Linear: _simple("linear", out=lambda m: m.out_features, bias=lambda m: m.bias is not None),
    nn.BatchNorm1d: _bn, nn.BatchNorm2d: _bn, nn.BatchNorm3d: _bn, nn.SyncBatchNorm: _bn,
    nn.GroupNorm: _simple("gn", groups=lambda m: m.num_groups, affine=lambda m: m.affine, eps=lambda m: float(m.eps)),
    nn.LayerNorm: _ln,
    nn.InstanceNorm1d: _simple("instancenorm", affine=lambda m: m.affine, stats=lambda m: m.track_running_stats),
    nn.InstanceNorm2d: _simple("instancenorm", affine=lambda m: m.affine, stats=lambda m: m.track_running_stats),
    nn.InstanceNorm3d: _simple("instancenorm", affine=lambda m: m.affine, stats=lambda m: m.track_running_stats),
    nn.LocalResponseNorm: _simple("lrn", size=lambda m: m.size, alpha=lambda m: float(m.alpha),
                                  beta=lambda m: float(m.beta), k=lambda m: float(m.k)),
    nn.ReLU: _simple("relu"), nn.ReLU6: _simple("relu6"), nn.SiLU: _simple("silu"),
    nn.Sigmoid: _simple("sigmoid"), nn.Tanh: _simple("tanh"), nn.Hardswish: _simple("hardswish"),
    nn.Hardsigmoid: _simple("hardsigmoid"), nn.Mish: _simple("mish"), nn.Softplus: _simple("softplus"),
    nn.LeakyReLU: _simple("leakyrelu", slope=lambda m: float(m.negative_slope)),
    nn.ELU: _simple("elu", alpha=lambda m: float(m.alpha)),
    nn.GELU: _simple("gelu", approximate=lambda m: m.approximate),
    nn.PReLU: _simple("prelu", per_channel=lambda m: m.num_parameters > 1),
    nn.Softmax: _dim_op("softmax"), nn.LogSoftmax: _dim_op("logsoftmax"),
    nn.Dropout: _simple("dropout", p=lambda m: float(m.p)),
    nn.Dropout1d: _simple("dropout", p=lambda m: float(m.p)),
    nn.Dropout2d: _simple("dropout", p=lambda m: float(m.p)),
    nn.Dropout3d: _simple("dropout", p=lambda m: float(m.p)),
    nn.AlphaDropout: _simple("dropout", p=lambda m: float(m.p)),
    nn.Identity: _simple("identity"),
    nn.Flatten: _flatten,
    nn.MaxPool1d: _pool("maxpool"), nn.MaxPool2d: _pool("maxpool"), nn.MaxPool3d: _pool("maxpool"),
    nn.AvgPool1d: _pool("avgpool"), nn.AvgPool2d: _pool("avgpool"), nn.AvgPool3d: _pool("avgpool"),
    nn.AdaptiveAvgPool1d: _adaptive("adaptiveavgpool"), nn.AdaptiveAvgPool2d: _adaptive("adaptiveavgpool"),
    nn.AdaptiveAvgPool3d: _adaptive("adaptiveavgpool"),
    nn.AdaptiveMaxPool1d: _adaptive("adaptivemaxpool"), nn.AdaptiveMaxPool2d: _adaptive("adaptivemaxpool"),
    nn.AdaptiveMaxPool3d: _adaptive("adaptivemaxpool"),
    nn.Upsample: _upsample,
    nn.ZeroPad1d: _pad("zeros"), nn.ZeroPad2d: _pad("zeros"), nn.ZeroPad3d: _pad("zeros"),
    nn.ConstantPad1d: _pad("zeros"), nn.ConstantPad2d: _pad("zeros"), nn.ConstantPad3d: _pad("zeros"),
    nn.ReflectionPad1d: _pad("reflect"), nn.ReflectionPad2d: _pad("reflect"), nn.ReflectionPad3d: _pad("reflect"),
    nn.ReplicationPad1d: _pad("replicate"), nn.ReplicationPad2d: _pad("replicate"),
    nn.ReplicationPad3d: _pad("replicate"),
    nn.CircularPad1d: _pad("circular"), nn.CircularPad2d: _pad("circular"), nn.CircularPad3d: _pad("circular"),
}

#: classes whose layout is channels first: the batch must be the tensor's first axis
CHANNELS_FIRST = {"conv", "convT", "bn", "gn", "instancenorm", "lrn", "maxpool", "avgpool",
                  "adaptiveavgpool", "adaptivemaxpool", "upsample", "pad", "prelu"}


def base_class(module: nn.Module) -> type | None:
    """The listed class whose ``forward`` this module runs, if any."""
    for cls in type(module).__mro__:
        if cls in _BUILDERS:
            return cls if type(module).forward is getattr(cls, "forward", None) else None
    return None


def module_op(module: nn.Module, x: Shape, dims: DimMap) -> Op | None:
    """The op for a listed module, or None (trace it instead)."""
    cls = base_class(module)
    if cls is None:
        return None
    try:
        return _BUILDERS[cls](module, x, dims)
    except (NetarithError, TypeError, ValueError):
        return None


class Inferred:
    """``op.infer`` under PyTorch's convention, each (op, input shapes) computed once per
    import: a model repeats a few distinct layers many times (ResNet's blocks)."""

    def __init__(self) -> None:
        self.ctx = Context(get_convention("pytorch"))
        self.outs: dict[tuple[object, ...], Out] = {}

    def __call__(self, op: Op, ins: Sequence[Shape]) -> Out:
        key = (op, *ins)
        out = self.outs.get(key)
        if out is None:
            out = self.outs[key] = op.infer(list(ins), self.ctx)
        return out


def parameters(module: nn.Module) -> list[nn.Parameter]:
    """``list(module.parameters())``, read straight from the module's own table when it has no
    children (as the layers read whole have): ``parameters()`` walks a chain of generators."""
    if module._modules:
        return list(module.parameters())
    return list({id(p): p for p in module._parameters.values() if p is not None}.values())


def counts_alike(module: nn.Module, op: Op, x: Shape, infer: Inferred,
                 params: list[nn.Parameter] | None = None) -> bool:
    """Does ``op`` on input ``x`` count exactly the module's own parameters (``params``, if known)?"""
    try:
        out = infer(op, [x])
    except NetarithError:
        return False
    return out.params == sum(p.numel() for p in (parameters(module) if params is None else params))


def origin(module: nn.Module) -> str:
    """``module:Conv2d`` for PyTorch's own classes, ``module:pkg.mod.Class`` for others."""
    cls = type(module)
    if cls.__module__.startswith("torch.nn.modules"):
        return f"module:{cls.__name__}"
    return f"module:{cls.__module__}.{cls.__qualname__}"
