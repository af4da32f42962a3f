"""The integer arithmetic of sliding windows, shared by convolution and pooling.

Each function computes with exact integers and, given a :class:`Trace`, records
the derivation of what it computed. Formulas and their sources are in
``reference/conv-arithmetic.md``:

* windows, floor (PyTorch, Caffe conv, TF VALID; ATen ``conv_output_size``):
  ``o = floor((i + pl + pr - d(k-1) - 1)/s) + 1``
* windows, ceil (cuda-convnet ``layer.py`` 1097: ``1 + ceil((2p + i - k)/s)``;
  PyTorch ``ceil_mode`` and Caffe pooling add a clip rule, see ``window_count``)
* TensorFlow SAME (``kernel_shape_util.cc``): ``o = ceil(i/s)``,
  ``total = max((o-1)s + k_eff - i, 0)``, extra padding at the end
* transposed (ATen ``conv_input_size``): ``o = (i-1)s - pl - pr + d(k-1) + op + 1``
* adaptive pooling bins (ATen ``AdaptivePooling.h``):
  ``[floor(j*i/o), ceil((j+1)*i/o))``
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd

from .conventions import Clip, Rounding
from .trace import Trace, fmt_num

__all__ = [
    "WindowCount",
    "adaptive_max_bin",
    "ceil_div",
    "same_padding",
    "transposed_size",
    "window_count",
]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True)
class WindowCount:
    """How many windows fit on one axis, and what the rounding cost."""

    out: int
    span: int  # i + pl + pr - k_eff: room left after the first window
    lost: int  # input pixels at the end that no window reads (floor)
    overhang: int  # pixels the last window reaches past the padded edge (ceil)
    clipped: bool  # a ceil-mode last window was dropped by the clip rule


def window_count(
    size: int,
    kernel: int,
    stride: int,
    pad_before: int,
    pad_after: int,
    dilation: int,
    rounding: Rounding,
    clip: Clip,
    *,
    trace: Trace | None = None,
    axis: str = "",
) -> WindowCount:
    """Number of window positions along one axis. Requires ``span >= 0``.

    >>> window_count(224, 11, 4, 0, 0, 1, "floor", "pytorch").out
    54
    >>> window_count(224, 11, 4, 0, 0, 1, "ceil", "none").out
    55
    """
    k_eff = dilation * (kernel - 1) + 1
    span = size + pad_before + pad_after - k_eff
    if rounding == "floor":
        out = span // stride + 1
        remainder = span % stride
        # Rows of the padded input after the last window; those beyond the end
        # padding are real input that never reaches a kernel.
        lost = max(0, remainder - pad_after)
        if trace is not None:
            trace.step(
                axis,
                f"floor(({_sym_pad()} - d*(k-1) - 1)/s) + 1",
                f"floor(({_num_pad(size, pad_before, pad_after)} - {dilation}*({kernel}-1) - 1)"
                f"/{stride}) + 1 = floor({fmt_num(Fraction(span, stride))}) + 1",
                out,
            )
        return WindowCount(out, span, lost, 0, False)
    out = ceil_div(span, stride) + 1
    raw = out
    clipped = False
    # PyTorch: the last window must start inside the input or the left padding
    # (ATen Pool.h); Caffe applies the same test only when pad > 0.
    if clip == "pytorch" or (clip == "caffe" and (pad_before > 0 or pad_after > 0)):
        if (out - 1) * stride >= size + pad_before:
            out -= 1
            clipped = True
    overhang = max(0, (out - 1) * stride + k_eff - (size + pad_before + pad_after))
    if trace is not None:
        if dilation == 1 and pad_before == pad_after:
            formula = "1 + ceil((2*p + i - k)/s)"
            numbers = f"1 + ceil((2*{pad_before} + {size} - {kernel})/{stride})"
        else:
            formula = f"1 + ceil(({_sym_pad()} - d*(k-1) - 1)/s)"
            numbers = (
                f"1 + ceil(({_num_pad(size, pad_before, pad_after)} - {dilation}*({kernel}-1) - 1)"
                f"/{stride})"
            )
        numbers += f" = 1 + ceil({span}/{stride})"
        trace.step(axis, formula, numbers, raw)
        if clipped:
            trace.step(
                axis,
                "o - 1 if (o-1)*s >= i + pl",
                f"({raw}-1)*{stride} = {(raw - 1) * stride} >= {size} + {pad_before}",
                out,
                note="the last window would start in the right padding, so it is dropped",
            )
    return WindowCount(out, span, 0, overhang, clipped)


def _sym_pad() -> str:
    return "i + pl + pr"


def _num_pad(size: int, before: int, after: int) -> str:
    if before == after:
        return f"{size} + 2*{before}"
    return f"{size} + {before} + {after}"


def same_padding(
    size: int, kernel: int, stride: int, dilation: int, style: str
) -> tuple[int, int]:
    """Padding (before, after) that 'same' means, per framework.

    TensorFlow: ``o = ceil(i/s)`` and ``total = max((o-1)s + k_eff - i, 0)``;
    PyTorch: total ``d(k-1)`` (stride 1 only). Both put the odd pixel at the end.

    >>> same_padding(224, 3, 2, 1, "tensorflow")
    (0, 1)
    >>> same_padding(10, 4, 1, 1, "pytorch")
    (1, 2)
    """
    k_eff = dilation * (kernel - 1) + 1
    if style == "tensorflow":
        out = ceil_div(size, stride)
        total = max((out - 1) * stride + k_eff - size, 0)
    else:
        total = k_eff - 1
    return total // 2, total - total // 2


def transposed_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int,
    output_padding: int, *, trace: Trace | None = None, axis: str = "",
) -> int:
    """Output size of a transposed convolution (ATen ``conv_input_size``).

    >>> transposed_size(16, 3, 2, 1, 1, 1, 1)
    32
    """
    out = (size - 1) * stride - pad_before - pad_after + dilation * (kernel - 1) + output_padding + 1
    if trace is not None:
        pads = f"2*{pad_before}" if pad_before == pad_after else f"{pad_before} - {pad_after}"
        trace.step(
            axis,
            "(i-1)*s - 2*p + d*(k-1) + output_padding + 1",
            f"({size}-1)*{stride} - {pads} + {dilation}*({kernel}-1) + {output_padding} + 1",
            out,
        )
    return out


def adaptive_max_bin(size: int, out: int) -> int:
    """The largest bin of adaptive pooling from ``size`` to ``out`` cells.

    Bin j covers ``[floor(j*size/out), ceil((j+1)*size/out))``; with
    ``c = size mod out`` and ``g = gcd(size, out)`` the widest bin is
    ``(size + 2*out - c)/out`` when ``c > g`` and ``(size + out - c)/out``
    otherwise (``size/out`` when ``c == 0``). Closed form, so a million bins cost
    nothing; the tests check it by enumeration.

    >>> adaptive_max_bin(10, 3)
    4
    """
    c = size % out
    if c == 0:
        return size // out
    g = gcd(size, out)
    best = 2 * out - c if c > g else out - c
    return (size + best) // out
