"""The window formulas and their edge cases (reference/conv-arithmetic.md, sections 1-2)."""

from __future__ import annotations

import math

import pytest

from netarith.arith import adaptive_max_bin, same_padding, transposed_size, window_count


def floor_conv(i: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def test_floor_matches_pytorch_docs_formula() -> None:
    for i in range(1, 40):
        for k in range(1, 6):
            for s in range(1, 4):
                for p in range(0, 3):
                    for d in (1, 2):
                        if i + 2 * p < d * (k - 1) + 1:
                            continue
                        got = window_count(i, k, s, p, p, d, "floor", "pytorch").out
                        assert got == floor_conv(i, k, s, p, d)


def test_alexnet_conv1() -> None:
    assert window_count(227, 11, 4, 0, 0, 1, "floor", "pytorch").out == 55
    at224 = window_count(224, 11, 4, 0, 0, 1, "floor", "pytorch")
    assert at224.out == 54 and at224.lost == 1
    cuda = window_count(224, 11, 4, 0, 0, 1, "ceil", "none")
    assert cuda.out == 55 and cuda.overhang == 3


@pytest.mark.parametrize(
    ("i", "k", "s", "p", "ceil", "expected"),
    [
        (7, 1, 2, 0, True, 4),  # issue #45357: W of a 6x7 input
        (6, 1, 2, 0, True, 3),  # H: now 3 (was 4 before PyTorch 1.8)
        (32, 1, 2, 0, True, 16),  # #57178
        (112, 3, 2, 0, True, 56),
        (112, 3, 2, 0, False, 55),
        (6, 3, 2, 1, True, 4),
    ],
)
def test_pytorch_ceil_mode(i: int, k: int, s: int, p: int, ceil: bool, expected: int) -> None:
    rounding = "ceil" if ceil else "floor"
    assert window_count(i, k, s, p, p, 1, rounding, "pytorch").out == expected


def test_caffe_clips_only_with_padding() -> None:
    # i=6, k=1, s=4, ceil: PyTorch 2, Caffe 3 (no clip without padding)
    assert window_count(6, 1, 4, 0, 0, 1, "ceil", "pytorch").out == 2
    assert window_count(6, 1, 4, 0, 0, 1, "ceil", "caffe").out == 3
    # with padding Caffe clips like PyTorch
    assert window_count(6, 1, 4, 1, 1, 1, "ceil", "caffe").out == window_count(
        6, 1, 4, 1, 1, 1, "ceil", "pytorch").out


def test_tensorflow_same_padding_is_end_heavy() -> None:
    assert same_padding(224, 3, 2, 1, "tensorflow") == (0, 1)
    assert same_padding(224, 7, 2, 1, "tensorflow") == (2, 3)
    for i in range(1, 30):
        for k in range(1, 6):
            for s in range(1, 4):
                before, after = same_padding(i, k, s, 1, "tensorflow")
                assert before <= after <= before + 1
                assert window_count(i, k, s, before, after, 1, "floor", "pytorch").out == math.ceil(i / s)


def test_pytorch_same_padding() -> None:
    assert same_padding(10, 4, 1, 1, "pytorch") == (1, 2)  # extra at the end
    assert same_padding(10, 3, 1, 2, "pytorch") == (2, 2)


def test_transposed() -> None:
    assert transposed_size(16, 3, 2, 1, 1, 1, 1) == 32
    assert transposed_size(10, 4, 2, 0, 0, 1, 0) == 22
    assert transposed_size(5, 3, 1, 4, 4, 1, 0) == -1  # p > d(k-1) shrinks; the op refuses < 1


def brute_max_bin(size: int, out: int) -> int:
    return max(-(-((j + 1) * size) // out) - (j * size) // out for j in range(out))


def test_adaptive_bins_closed_form() -> None:
    assert adaptive_max_bin(10, 3) == 4
    for size in range(1, 60):
        for out in range(1, 60):
            assert adaptive_max_bin(size, out) == brute_max_bin(size, out), (size, out)
