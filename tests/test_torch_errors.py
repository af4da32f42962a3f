"""PyTorch's shape errors, read: each message is produced by PyTorch itself, read back, and the
fix proposed is applied in PyTorch, which must then run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from netarith.errors import SpecError
from netarith.torcherrors import read_error

pytestmark = pytest.mark.torch


def _message(run: Callable[[], Any]) -> str:
    try:
        run()
    except (RuntimeError, ValueError) as exc:
        return str(exc)
    raise AssertionError("PyTorch accepted it")


def test_linear_in_features(torch: Any) -> None:
    nn = torch.nn
    x = torch.zeros(2, 32, 7, 7).flatten(1)
    a = read_error(_message(lambda: nn.Linear(1050, 10)(x)))
    assert a.facts["in_features_needed"] == 1568 and a.facts["rows"] == 2
    assert "32x7x7" in " ".join(a.meaning)
    fixed = eval(a.fix, {"nn": nn})
    assert fixed(x).shape == (2, 10)


def test_linear_in_features_with_the_network() -> None:
    net = "1x28x28 | conv 16 k3 p1 | maxpool 2 | conv 32 k3 p1 | maxpool 2 | flatten | head: linear 10"
    a = read_error("mat1 and mat2 shapes cannot be multiplied (2x1568 and 1050x10)", net)
    assert any("head receives 1,568 features" in line and "32 * 7 * 7" in line for line in a.network)


@pytest.mark.parametrize(("make", "x_shape"), [
    ("Conv2d(3, 64, 7)", (1, 1, 64, 64)),
    ("Conv2d(4, 8, 3, groups=2)", (1, 6, 8, 8)),
    ("Conv1d(1, 8, 3)", (4, 2, 100)),
    ("ConvTranspose2d(16, 8, 3)", (1, 8, 4, 4)),
])
def test_conv_channels(torch: Any, make: str, x_shape: tuple[int, ...]) -> None:
    nn = torch.nn
    x = torch.zeros(*x_shape)
    a = read_error(_message(lambda: eval(f"nn.{make}", {"nn": nn})(x)))
    assert a.facts["in_channels_given"] == x_shape[1]
    eval(a.fix, {"nn": nn})(x)  # runs


def test_kernel_too_big(torch: Any) -> None:
    nn = torch.nn
    x = torch.zeros(1, 3, 4, 5)
    a = read_error(_message(lambda: nn.Conv2d(3, 8, 7, padding=1)(x)))
    assert a.facts["padded_input"] == [6, 7] and a.facts["short"] == [1, 0]
    more = max(-(-s // 2) for s in a.facts["short"])
    nn.Conv2d(3, 8, 7, padding=1 + more)(x)  # the padding proposed is enough


def test_pool_too_small(torch: Any) -> None:
    nn = torch.nn
    a = read_error(_message(lambda: nn.MaxPool2d(3, 2)(torch.zeros(1, 480, 1, 1))))
    assert a.facts == {"input": [1, 1], "output": [0, 0], "channels": 480}
    b = read_error(_message(lambda: nn.MaxPool1d(3, 2)(torch.zeros(1, 4, 1))))
    assert b.kind == "pool_too_small"


def test_view(torch: Any) -> None:
    nn = torch.nn
    x = torch.zeros(2, 32, 7, 7)
    a = read_error(_message(lambda: x.view(-1, 400)))
    assert a.facts["elements"] == 3136
    assert "1,568 at batch 2" in " ".join(a.meaning)
    nn.Linear(1568, 10)(x.view(x.size(0), -1))  # the fix: flatten per sample, in_features per sample


def test_cat_and_add(torch: Any) -> None:
    a = read_error(_message(lambda: torch.cat([torch.zeros(1, 8, 28, 28), torch.zeros(1, 8, 27, 27)], 1)))
    assert (a.facts["expected"], a.facts["got"]) == (28, 27)
    b = read_error(_message(lambda: torch.zeros(1, 8, 28, 28) + torch.zeros(1, 8, 27, 27)))
    assert (b.facts["a"], b.facts["b"], b.facts["dim"]) == (28, 27, 3)


def test_sizes_with_the_network() -> None:
    # A U-Net skip: conv k3 s2 p1 gives ceil(H/2), the transposed conv doubles it: only even sizes agree.
    unet = "3x64x64 | d: conv 8 k3 s2 p1 | u: convT 3 k2 s2 | c: concat u input"
    a = read_error("Sizes of tensors must match except in dimension 1. Expected size 64 but got size 63 "
                   "for tensor number 1 in the list.", unet)
    assert a.network[0].startswith("the smallest input every layer accepts is 2x2")
    assert "64 and 64" in a.network[1]


def test_output_padding(torch: Any) -> None:
    nn = torch.nn
    x = torch.zeros(1, 3, 4, 4)
    a = read_error(_message(lambda: nn.ConvTranspose2d(3, 3, 3, stride=2, output_padding=2)(x)))
    assert a.facts["max_output_padding"] == [1, 1]
    nn.ConvTranspose2d(3, 3, 3, stride=2, output_padding=a.facts["max_output_padding"][0])(x)


def test_reflect_padding(torch: Any) -> None:
    nn = torch.nn
    x = torch.zeros(1, 3, 4, 4)
    a = read_error(_message(lambda: nn.Conv2d(3, 8, 3, padding=4, padding_mode="reflect")(x)))
    assert a.facts["size"] == 4
    nn.Conv2d(3, 8, 3, padding=a.facts["size"] - 1, padding_mode="reflect")(x)


def test_batchnorm(torch: Any) -> None:
    nn = torch.nn
    one = torch.zeros(1, 8, 1, 1)
    a = read_error(_message(lambda: nn.BatchNorm2d(8).train()(one)))
    assert a.kind == "batchnorm_one_value" and "model.eval()" in a.fixes[0]
    nn.BatchNorm2d(8).eval()(one)
    x = torch.zeros(1, 4, 5, 5)
    b = read_error(_message(lambda: nn.BatchNorm2d(8)(x)))
    assert b.facts["channels"] == 4
    nn.BatchNorm2d(b.facts["channels"])(x)
    y = torch.zeros(2, 4)
    c = read_error(_message(lambda: nn.LayerNorm(8)(y)))
    eval(c.fix, {"nn": nn})(y)


def test_unknown_message() -> None:
    with pytest.raises(SpecError, match="does not know this message"):
        read_error("CUDA out of memory")
