"""Outputs made without PyTorch's meta kernels, for the functions whose output is laid out as
their input: batch and layer normalisation, the elementwise activations, and concatenation.

On the meta device PyTorch 2.14 runs many functions as Python decompositions that cost far
more than recording the call (on a 2x64x56x56 input: ``F.hardswish`` 1.3 ms, ``F.relu6`` 0.9 ms,
``F.layer_norm`` 0.7 ms, ``F.relu`` 0.25 ms; ``F.batch_norm`` was half the time of reading a
ResNet, ``torch.cat`` a third of a DenseNet). The recording needs only the output's shape,
dtype and layout, which for these functions follow from the input's: :func:`made` makes that
output (the input itself when the call
works in place). Where PyTorch would refuse the arguments or lay the output out otherwise (an
integer input, a running mean of the wrong size, an input that is not dense), it returns None
and PyTorch runs the call as usual, and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

import torch
from torch.nn import functional as F

from ._torch_shapes import SHAPED, empty

__all__ = ["made"]

Rule = Callable[[tuple[Any, ...], dict[str, Any]], "torch.Tensor | None"]


def made(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """The output of ``func(*args, **kwargs)`` made as its input's, or None (let PyTorch run it)."""
    rule = _RULES.get(func)
    return None if rule is None else rule(args, kwargs)


def _dense(x: object) -> TypeGuard[torch.Tensor]:
    """A floating-point tensor whose elements fill its memory in a standard order."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        return False
    if x.is_contiguous():
        return True
    rank = x.dim()
    return (rank == 4 and x.is_contiguous(memory_format=torch.channels_last)) or \
        (rank == 5 and x.is_contiguous(memory_format=torch.channels_last_3d))


def _like(x: torch.Tensor) -> torch.Tensor:
    """``x.new_empty_strided(x.size(), x.stride())``, made as :func:`empty` is, for speed."""
    return torch.empty_strided(x.size(), x.stride(), dtype=x.dtype, device=x.device)


def _given(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**dict(zip(names, args)), **kwargs}


def _elementwise(*names: str, valid: Callable[[dict[str, Any]], bool] = lambda a: True) -> Rule:
    """A function of each element (``names``: its parameters in order, ``inplace`` among them
    if it has one)."""
    def rule(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
        given = _given(names, args, kwargs)
        x = given.get("input")
        if not _dense(x) or not valid(given):
            return None
        return x if given.get("inplace") else _like(x)  # in place: the input itself, as PyTorch returns it
    return rule


_NORM_ARGS = ("input", "running_mean", "running_var", "weight", "bias")


def _batch_norm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """Normalised per channel (dim 1): each per-channel tensor given must have C elements; in
    eval mode the running statistics must be given, in training more than one value a channel."""
    given = _given((*_NORM_ARGS, "training"), args, kwargs)
    x = given.get("input")
    if not _dense(x) or x.dim() < 2:
        return None
    if given.get("training"):
        if x.numel() == x.shape[1]:
            return None
    elif given.get("running_mean") is None or given.get("running_var") is None:
        return None
    for name in _NORM_ARGS[1:]:
        t = given.get(name)
        if t is not None and not (isinstance(t, torch.Tensor) and t.numel() == x.shape[1]):
            return None
    return _like(x)


def _layer_norm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """Normalised over the last dims, which must be ``normalized_shape``, as the weight and bias
    are; PyTorch writes the output contiguous, whatever the input's layout (ConvNeXt normalises
    a permuted tensor)."""
    given = _given(("input", "normalized_shape", "weight", "bias"), args, kwargs)
    x = given.get("input")
    if not (isinstance(x, torch.Tensor) and x.is_floating_point() and x.layout == torch.strided):
        return None
    shape = given.get("normalized_shape")
    shape = tuple(shape) if isinstance(shape, (tuple, list, torch.Size)) else (shape,)
    if not shape or len(shape) > x.dim() or tuple(x.shape[-len(shape):]) != shape:
        return None
    for name in ("weight", "bias"):
        t = given.get(name)
        if t is not None and not (isinstance(t, torch.Tensor) and tuple(t.shape) == shape):
            return None
    return empty(x, x.shape)


def _cat(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """Contiguous tensors of one dtype and rank, alike but along ``dim``: a contiguous tensor
    as long along ``dim`` as all of them (DenseNet concatenates at every layer, dozens of tensors:
    each is checked in one pass)."""
    given = _given(("tensors", "dim"), args, kwargs)
    tensors, dim = given.get("tensors"), given.get("dim", 0)
    if "out" in kwargs or not isinstance(tensors, (list, tuple)) or not tensors or type(dim) is not int:
        return None
    first = tensors[0]
    if not _dense(first) or not -first.dim() <= dim < first.dim():
        return None
    rank, dtype = first.dim(), first.dtype
    dim %= rank
    size = list(first.shape)
    before, after = tuple(size[:dim]), tuple(size[dim + 1:])
    total = 0
    for t in tensors:
        if not (isinstance(t, torch.Tensor) and t.is_floating_point() and t.is_contiguous()
                and t.dtype == dtype and t.dim() == rank):
            return None
        shape = t.shape
        if shape[:dim] != before or shape[dim + 1:] != after:
            return None
        total += shape[dim]
    size[dim] = total
    return empty(first, size)


_RULES: dict[Any, Rule] = {
    torch.cat: _cat,
    F.batch_norm: _batch_norm,
    F.layer_norm: _layer_norm,
    F.relu: _elementwise("input", "inplace"),
    F.relu6: _elementwise("input", "inplace"),
    F.silu: _elementwise("input", "inplace"),
    F.hardswish: _elementwise("input", "inplace"),
    F.hardsigmoid: _elementwise("input", "inplace"),
    F.gelu: _elementwise("input", "approximate", valid=lambda a: a.get("approximate", "none") in ("none", "tanh")),
    torch.sigmoid: _elementwise("input"),
    torch.tanh: _elementwise("input"),
    **SHAPED,  # convolution, linear, adaptive pooling, broadcasting arithmetic
}
