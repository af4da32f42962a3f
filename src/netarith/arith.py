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

from fractions import Fraction
from math import gcd

from ._values import frozen
from .conventions import Clip, Rounding
from .trace import Trace, fmt_num

__all__ = [
    "WindowCount",
    "adaptive_bin_total",
    "adaptive_max_bin",
    "ceil_div",
    "same_padding",
    "transposed_size",
    "window_count",
]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@frozen
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
                f"floor(({_sym_pad(pad_before, pad_after)} - d*(k-1) - 1)/s) + 1",
                f"floor(({_num_pad(size, pad_before, pad_after)} - {dilation}*({kernel}-1) - 1)"
                f"/{stride}) + 1 = floor({fmt_num(Fraction(span, stride))}) + 1",
                out,
                note=_floor_note(size, pad_before, span, stride, out, k_eff, lost),
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
        kernel_sym, kernel_num = ("k", f"{kernel}") if dilation == 1 else (
            "d*(k-1) - 1", f"{dilation}*({kernel}-1) - 1")
        trace.step(
            axis,
            f"1 + ceil(({_sym_pad(pad_before, pad_after)} - {kernel_sym})/s)",
            f"1 + ceil(({_num_pad(size, pad_before, pad_after)} - {kernel_num})/{stride})"
            f" = 1 + ceil({span}/{stride}) = 1 + ceil({fmt_num(Fraction(span, stride))})",
            raw,
            note="" if clipped else _ceil_note(size, pad_before + pad_after, stride, out, k_eff, overhang),
        )
        if clipped:
            trace.step(
                axis,
                "o - 1, as the last window would start at (o-1)*s >= i + pl",
                f"{raw} - 1",
                out,
                note=f"({raw}-1)*{stride} = {(raw - 1) * stride} >= {size} + {pad_before}: that window would start "
                "in the right padding, so it is dropped"
                + (f"; {_ceil_note(size, pad_before + pad_after, stride, out, k_eff, overhang)}"
                   if overhang else ""),
            )
    return WindowCount(out, span, 0, overhang, clipped)


def _floor_note(size: int, pad_before: int, span: int, stride: int, out: int, k_eff: int,
                lost: int) -> str:
    remainder = span % stride
    if remainder == 0:
        return ""
    start = (out - 1) * stride
    where = "the padded input" if span != size - k_eff or pad_before else "the input"
    text = (f"{span} = {stride}*{span // stride} + {remainder}: the last window covers "
            f"{start}..{start + k_eff - 1} of {where} (from 0); ")
    if not lost:
        after = "the pixel after it is" if remainder == 1 else f"the {remainder} pixels after it are"
        return text + f"{after} end padding"
    first = size - lost
    pixels = f"pixel {first} is" if lost == 1 else f"pixels {first}..{size - 1} are"
    return text + f"input {pixels} never read"


def _ceil_note(size: int, pads: int, stride: int, out: int, k_eff: int, overhang: int) -> str:
    if not overhang:
        return ""
    start = (out - 1) * stride
    return (
        f"the last window covers {start}..{start + k_eff - 1} (from 0), "
        f"{overhang} past the {size + pads} pixels of the{' padded' if pads else ''} input"
    )


def _sym_pad(before: int, after: int) -> str:
    return "i + 2*p" if before == after else "i + pl + pr"


def _num_pad(size: int, before: int, after: int) -> str:
    if before == after:
        return f"{size} + 2*{before}"
    return f"{size} + {before} + {after}"


def same_padding(
    size: int, kernel: int, stride: int, dilation: int, style: str,
    *, trace: Trace | None = None, axis: str = "",
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
        formula = "max((ceil(i/s)-1)*s + d*(k-1) + 1 - i, 0)"
        numbers = f"max(({out}-1)*{stride} + {dilation}*({kernel}-1) + 1 - {size}, 0)"
    else:
        total = k_eff - 1
        formula, numbers = "d*(k-1)", f"{dilation}*({kernel}-1)"
    before = total // 2
    if trace is not None:
        odd = " (the odd pixel goes at the end)" if total % 2 else ""
        trace.step(f"padding {axis}", f"'same' total = {formula}", numbers, total,
                   note=f"{before} before, {total - before} after{odd}")
    return before, total - before


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
        symmetric = pad_before == pad_after
        trace.step(
            axis,
            f"(i-1)*s - {'2*p' if symmetric else 'pl - pr'} + d*(k-1) + output_padding + 1",
            f"({size}-1)*{stride} - {f'2*{pad_before}' if symmetric else f'{pad_before} - {pad_after}'}"
            f" + {dilation}*({kernel}-1) + {output_padding} + 1",
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


def adaptive_bin_total(size: int, out: int) -> int:
    """How many cells the ``out`` bins of adaptive pooling cover in all, overlaps counted twice.

    Bin j has ``ceil((j+1)*size/out) - floor(j*size/out)`` cells; the floors
    telescope to ``size``, and a ceil exceeds its floor except where
    ``out`` divides ``(j+1)*size``, which happens ``gcd(size, out)`` times: so
    ``size + out - gcd(size, out)``. The tests check it by enumeration.

    >>> adaptive_bin_total(10, 3)  # bins (0,4) (3,7) (6,10)
    12
    """
    return size + out - gcd(size, out)
