"""The outputs ``_torch_shapes`` makes for convolution, linear layers, adaptive average pooling and
broadcasting arithmetic, against PyTorch's meta kernels: same shape, dtype and strides, the
input itself for a call in place; and every call outside the common case left to PyTorch."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from netarith.importers._torch_shapes import SHAPED  # noqa: E402


def _meta(*shape: int, dtype: Any = None, last: bool = False) -> Any:
    x = torch.empty(*shape, device="meta", dtype=dtype or torch.float32)
    return x.to(memory_format=torch.channels_last) if last else x


def _ours(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return SHAPED[func](args, kwargs)


def _same(func: Any, *args: Any, **kwargs: Any) -> None:
    ours = _ours(func, args, kwargs)
    assert ours is not None, (func, args, kwargs)
    theirs = func(*args, **kwargs)
    assert (ours.shape, ours.dtype, ours.stride(), ours.device) == \
        (theirs.shape, theirs.dtype, theirs.stride(), theirs.device)
    assert (ours is args[0]) == (theirs is args[0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_convolution(dtype: Any) -> None:
    _same(F.conv2d, _meta(2, 3, 224, 224, dtype=dtype), _meta(64, 3, 7, 7, dtype=dtype), None, 2, 3)
    _same(F.conv2d, _meta(2, 3, 224, 224, dtype=dtype), _meta(64, 3, 7, 7, dtype=dtype), _meta(64, dtype=dtype),
          stride=(2, 1), padding=[3, 0], dilation=(1, 2))
    _same(F.conv2d, _meta(2, 32, 9, 9, dtype=dtype), _meta(32, 1, 3, 3, dtype=dtype), None, 1, 1, 1, 32)
    _same(F.conv1d, _meta(2, 4, 17, dtype=dtype), _meta(6, 2, 4, dtype=dtype), None, 3, 1, 2, 2)
    _same(F.conv3d, _meta(2, 3, 5, 9, 9, dtype=dtype), _meta(4, 3, 2, 3, 3, dtype=dtype), padding=(0, 1, 1))


def test_linear_pooling_and_arithmetic() -> None:
    _same(F.linear, _meta(2, 512), _meta(1000, 512), _meta(1000))
    _same(F.linear, _meta(2, 197, 768), _meta(2304, 768))
    for size in (1, (1, 1), (7, 7), (None, 3), [5, None]):
        _same(F.adaptive_avg_pool2d, _meta(2, 1280, 7, 9), size)
    x, s = _meta(2, 64, 5, 5), _meta(2, 64, 1, 1)
    for func in (torch.add, torch.Tensor.add, torch.Tensor.__add__, torch.mul, torch.Tensor.__mul__,
                 torch.Tensor.__rmul__, torch.Tensor.__radd__):
        _same(func, x, s)
        _same(func, s, x)
        _same(func, x, _meta(64, 1, 1))
        _same(func, x, 2.5)
    for func in (torch.Tensor.add_, torch.Tensor.mul_, torch.Tensor.__iadd__, torch.Tensor.__imul__):
        _same(func, _meta(2, 64, 5, 5), _meta(2, 64, 5, 5))
        _same(func, _meta(2, 64, 5, 5), s)
        _same(func, _meta(2, 64, 5, 5), 3)


def test_pytorch_runs_what_the_rules_do_not_cover() -> None:
    x, w = _meta(2, 3, 8, 8), _meta(4, 3, 3, 3)
    left = [
        (F.conv2d, (x, w), {"padding": "same"}),
        (F.conv2d, (x, w), {"padding": "valid"}),
        (F.conv2d, (_meta(3, 8, 8), w), {}),  # unbatched
        (F.conv2d, (x, _meta(4, 2, 3, 3)), {}),  # channels differ
        (F.conv2d, (x, _meta(4, 1, 3, 3)), {"groups": 2}),
        (F.conv2d, (x, w, _meta(5)), {}),
        (F.conv2d, (x, _meta(4, 3, 9, 9)), {}),  # kernel larger than the input
        (F.conv2d, (x, w.half()), {}),
        (F.conv2d, (x.transpose(2, 3), w), {}),
        (F.conv2d, (_meta(2, 3, 8, 8, last=True), w), {}),
        (F.conv2d, (x, w, None, (1, 1, 1)), {}),
        (F.conv2d, (x, w, None, 0), {}),
        (F.conv2d, (_meta(2, 3, 8, 8, dtype=torch.int64), w), {}),
        (F.conv1d, (x, w), {}),
        (F.linear, (_meta(2, 511), _meta(10, 512)), {}),
        (F.linear, (_meta(512), _meta(10, 512)), {}),
        (F.linear, (_meta(2, 512), _meta(10, 512), _meta(1)), {}),
        (F.adaptive_avg_pool2d, (_meta(8, 7, 7), 1), {}),
        (F.adaptive_avg_pool2d, (_meta(2, 8, 7, 7), (1, 1, 1)), {}),
        (F.adaptive_avg_pool2d, (_meta(2, 8, 7, 7), 0), {}),
        (torch.add, (_meta(2, 3), _meta(2, 4)), {}),
        (torch.add, (_meta(2, 3), _meta(2, 3)), {"alpha": 2}),
        (torch.add, (_meta(2, 1), _meta(1, 3)), {}),  # neither operand has the output's shape
        (torch.add, (_meta(2, 3), _meta(2, 3, dtype=torch.float16)), {}),
        (torch.mul, (_meta(2, 3, dtype=torch.int64), 2), {}),
        (torch.mul, (_meta(2, 3), True), {}),
        (torch.Tensor.add_, (_meta(2, 1), _meta(2, 3)), {}),  # in place cannot grow
    ]
    for func, args, kwargs in left:
        assert _ours(func, args, kwargs) is None, (func, args, kwargs)
