"""The outputs the torch importer makes without PyTorch's meta kernels (``_torch_meta``) against
the kernels themselves: same shape, dtype and strides, the input itself for a call in place,
and PyTorch left to run (and to refuse) every call the rules do not cover."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from netarith.importers._torch_meta import made  # noqa: E402


def _meta(*shape: int, last: bool = False, dtype: Any = None) -> Any:
    x = torch.empty(*shape, device="meta", dtype=dtype or torch.float32)
    return x.to(memory_format=torch.channels_last) if last else x


def _same(func: Any, *args: Any, **kwargs: Any) -> None:
    ours = made(func, args, kwargs)
    assert ours is not None, func
    theirs = func(*args, **kwargs)
    assert (ours.shape, ours.dtype, ours.stride(), ours.device) == \
        (theirs.shape, theirs.dtype, theirs.stride(), theirs.device)
    if kwargs.get("inplace") or (len(args) > 1 and args[1] is True):
        assert ours is args[0] and theirs is args[0]


@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_activations_are_laid_out_as_pytorch_lays_them_out(last: bool, dtype: Any) -> None:
    for func in (F.relu, F.relu6, F.silu, F.hardswish, F.hardsigmoid):
        _same(func, _meta(2, 8, 5, 7, last=last, dtype=dtype))
        _same(func, _meta(2, 8, 5, 7, last=last, dtype=dtype), inplace=True)
        _same(func, _meta(2, 8, 5, 7, last=last, dtype=dtype), True)
    for func in (torch.sigmoid, torch.tanh, F.gelu):
        _same(func, _meta(2, 8, 5, 7, last=last, dtype=dtype))
    _same(F.gelu, _meta(3, 11), approximate="tanh")


@pytest.mark.parametrize("last", [False, True])
def test_batch_norm(last: bool) -> None:
    c = _meta(8)
    _same(F.batch_norm, _meta(2, 8, 5, 7, last=last), c, c, c, c, False, 0.1, 1e-5)
    _same(F.batch_norm, _meta(2, 8, 5, 7, last=last), c, c, weight=c, bias=None, training=True)
    _same(F.batch_norm, _meta(3, 8), None, None, training=True)


def test_layer_norm() -> None:
    _same(F.layer_norm, _meta(2, 49, 96), (96,), _meta(96), _meta(96), 1e-6)
    _same(F.layer_norm, _meta(2, 7, 7, 96), [7, 96])
    # any layout in, contiguous out: ConvNeXt's permuted input, a transposed one, channels last
    _same(F.layer_norm, _meta(2, 96, 7, 7).permute(0, 2, 3, 1), (96,), _meta(96), _meta(96))
    _same(F.layer_norm, _meta(2, 7, 96, 7).transpose(2, 3), (96,))
    _same(F.layer_norm, _meta(2, 8, 5, 7, last=True), (7,))
    _same(F.layer_norm, _meta(2, 1, 96).expand(2, 49, 96), (96,))


def test_cat() -> None:
    _same(torch.cat, [_meta(2, 8, 5, 5), _meta(2, 4, 5, 5)], 1)
    _same(torch.cat, (_meta(2, 8, 5, 5), _meta(3, 8, 5, 5)))
    _same(torch.cat, [_meta(2, 8, 5, 5), _meta(2, 8, 5, 1)], dim=-1)


def test_pytorch_runs_what_the_rules_do_not_cover() -> None:
    c, wrong = _meta(8), _meta(7)
    left = [
        (F.relu, (_meta(2, 3, dtype=torch.int64),), {}),  # not floating point
        (F.relu, (_meta(2, 8, 5, 7).transpose(1, 2),), {}),  # not dense in a standard order
        (F.relu, (_meta(2, 3).expand(4, 2, 3),), {"inplace": True}),
        (F.gelu, (_meta(2, 3),), {"approximate": "cubic"}),
        (F.batch_norm, (_meta(2, 8, 5, 5), wrong, wrong), {}),
        (F.batch_norm, (_meta(2, 8, 5, 5), c, c, wrong), {}),
        (F.batch_norm, (_meta(8),), {}),
        (F.batch_norm, (_meta(2, 8, 5, 5), None, None), {}),  # eval mode needs running statistics
        (F.batch_norm, (_meta(1, 8), None, None), {"training": True}),  # one value a channel
        (F.layer_norm, (_meta(2, 49, 96), (95,)), {}),
        (F.layer_norm, (_meta(2, 49, 96), (96,), _meta(95)), {}),
        (F.layer_norm, (_meta(2, 49, 96, dtype=torch.int64), (96,)), {}),  # not floating point
        (torch.cat, ([_meta(2, 8, 5, 5), _meta(2, 8, 4, 4)], 1), {}),
        (torch.cat, ([_meta(2, 8, 5, 5), _meta(2, 8, 5, 5, dtype=torch.float16)], 1), {}),
        (torch.cat, ([_meta(2, 8, 5, 5), _meta(2, 8, 5, 5)], 4), {}),
        (torch.cat, ([_meta(2, 8, 5, 5, last=True), _meta(2, 8, 5, 5, last=True)], 1), {}),
        (torch.cat, ([],), {}),
        (F.conv2d, (_meta(2, 3, 8, 8), _meta(4, 3, 3, 3)), {"padding": "same"}),  # PyTorch pads
        (F.max_pool2d, (_meta(2, 3, 8, 8), 2), {}),  # no rule: PyTorch computes it
    ]
    for func, args, kwargs in left:
        assert made(func, args, kwargs) is None, (func, args, kwargs)
