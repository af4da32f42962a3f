"""Outputs of convolution, linear layers, adaptive average pooling and broadcasting arithmetic,
made from their arguments' shapes without PyTorch's meta kernels.

Two reasons. Speed: on the meta device these calls run Python code in PyTorch (the
convolution's shape checks, the decomposition of ``x + y`` into broadcasting primitives, the
mean that adaptive pooling to 1x1 becomes) that costs more than recording them. And reading a
module as it is, without copying it to the meta device: a convolution of a meta input with
the module's own (real) weight is an error for PyTorch, while its output's shape and layout
follow from the shapes alone.

Each rule covers the common case only (dense floating-point tensors of one dtype, sizes that
PyTorch accepts); anywhere else it returns None and PyTorch runs the call as usual, so that
PyTorch, not this file, says what is wrong. The layout of each output is the one PyTorch's
meta kernel gives (contiguous, here), which matters to a later ``view``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

import torch
from torch.nn import functional as F

from ..arith import window_count

__all__ = ["SHAPED", "empty"]

Rule = Callable[[tuple[Any, ...], dict[str, Any]], "torch.Tensor | None"]


def empty(x: torch.Tensor, size: Any) -> torch.Tensor:
    """``x.new_empty(size)``: a contiguous tensor of ``x``'s dtype and device, made by
    ``torch.empty`` (on the meta device, 1.5 us where ``new_empty`` takes 5)."""
    return torch.empty(size, dtype=x.dtype, device=x.device)


def _plain(x: object) -> TypeGuard[torch.Tensor]:
    """A contiguous floating-point tensor (the layout the outputs made here assume)."""
    return isinstance(x, torch.Tensor) and x.is_floating_point() and x.is_contiguous()


def _given(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """Arguments bound to ``names``; None if there are more of them than names or unknown keywords."""
    if len(args) > len(names) or any(k not in names for k in kwargs):
        return None
    return {**dict(zip(names, args)), **kwargs}


def _per_axis(value: Any, n: int) -> tuple[int, ...] | None:
    """An int, or a sequence of ``n`` ints, as ``n`` ints (None for anything else: a string)."""
    if type(value) is int:
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(type(v) is int for v in value):
        return tuple(value)
    return None


def _conv(spatial: int) -> Rule:
    """``F.conv{1,2,3}d`` with numeric padding on a batched input.
    Output size per axis: arith.window_count, rounding down (PyTorch's Conv2d documentation)."""
    names = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")

    def rule(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
        given = _given(names, args, kwargs)
        if given is None:
            return None
        x, w, b = given.get("input"), given.get("weight"), given.get("bias")
        groups = given.get("groups", 1)
        if not (_plain(x) and isinstance(w, torch.Tensor) and w.dtype == x.dtype and type(groups) is int):
            return None
        if x.dim() != spatial + 2 or w.dim() != spatial + 2 or groups < 1:
            return None
        out_c = w.shape[0]
        if x.shape[1] != w.shape[1] * groups or out_c % groups or min(x.shape) < 1 or min(w.shape) < 1:
            return None
        if b is not None and not (isinstance(b, torch.Tensor) and b.dtype == x.dtype and tuple(b.shape) == (out_c,)):
            return None
        stride = _per_axis(given.get("stride", 1), spatial)
        padding = _per_axis(given.get("padding", 0), spatial)
        dilation = _per_axis(given.get("dilation", 1), spatial)
        if stride is None or padding is None or dilation is None or min(stride) < 1 or min(dilation) < 1 \
                or min(padding) < 0:
            return None
        sizes = []
        for i, k, s, p, d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation):
            if i + 2 * p < d * (k - 1) + 1:
                return None  # the window does not fit: PyTorch's own kernel says how
            sizes.append(window_count(i, k, s, p, p, d, "floor", "none").out)
        return empty(x, (x.shape[0], out_c, *sizes))
    return rule


def _linear(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """``F.linear``: the last axis becomes the weight's rows."""
    given = _given(("input", "weight", "bias"), args, kwargs)
    if given is None:
        return None
    x, w, b = given.get("input"), given.get("weight"), given.get("bias")
    if not (_plain(x) and isinstance(w, torch.Tensor) and w.dtype == x.dtype and w.dim() == 2):
        return None
    if x.dim() < 2 or x.shape[-1] != w.shape[1] or min(x.shape) < 1 or min(w.shape) < 1:
        return None
    if b is not None and not (isinstance(b, torch.Tensor) and b.dtype == x.dtype and tuple(b.shape) == (w.shape[0],)):
        return None
    return empty(x, (*x.shape[:-1], w.shape[0]))


def _adaptive_avg_pool2d(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """``F.adaptive_avg_pool2d`` of a batched input to sizes given (None keeps the input's)."""
    given = _given(("input", "output_size"), args, kwargs)
    if given is None:
        return None
    x, size = given.get("input"), given.get("output_size")
    if not _plain(x) or x.dim() != 4 or min(x.shape) < 1:
        return None
    if type(size) is int:
        size = (size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        return None
    sizes = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(size))
    if any(type(s) is not int or s < 1 for s in sizes):
        return None
    return empty(x, (*x.shape[:2], *sizes))


def _broadcast(inplace: bool) -> Rule:
    """``x + y``, ``x * y`` (and in place) of contiguous float tensors of one dtype, or a tensor and a
    Python number; the output takes the broadcast shape. Where one operand already has the
    output's shape, PyTorch lays the output out as it (contiguous here)."""
    def rule(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
        if kwargs or len(args) != 2:
            return None
        x: Any = args[0]
        y: Any = args[1]
        if not _plain(x) or min(x.shape, default=1) < 1:
            return None
        if type(y) in (int, float):
            return x if inplace else empty(x, x.shape)
        if not _plain(y) or y.dtype != x.dtype or min(y.shape, default=1) < 1:
            return None
        shape = _broadcast_shape(tuple(x.shape), tuple(y.shape))
        if shape is None or shape not in (tuple(x.shape), tuple(y.shape)):
            return None
        if inplace:
            return x if shape == tuple(x.shape) else None
        return empty(x, shape)
    return rule


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """NumPy's broadcasting: sizes aligned from the right, each pair equal or one of them 1."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, j in zip(a, b):
        if i != j and 1 not in (i, j):
            return None
        out.append(max(i, j))
    return tuple(out)


_T = torch.Tensor

SHAPED: dict[Any, Rule] = {
    F.conv1d: _conv(1), F.conv2d: _conv(2), F.conv3d: _conv(3),
    F.linear: _linear,
    F.adaptive_avg_pool2d: _adaptive_avg_pool2d,
    **{f: _broadcast(False) for f in (torch.add, _T.add, _T.__add__, _T.__radd__,
                                      torch.mul, _T.mul, _T.__mul__, _T.__rmul__)},
    **{f: _broadcast(True) for f in (_T.add_, _T.__iadd__, _T.mul_, _T.__imul__)},
}
