"""How each output dim of a layer follows from its inputs' dims: data for ``netarith sizes``.

An op's :meth:`~netarith.ops.base.Op.infer` returns, besides the output shape it
computed, a :class:`SizeRule`: one :data:`DimRule` per output dim saying which
arithmetic produced it (the same parameters ``infer`` used, padding already
resolved). ``sizes.py`` composes these rules into closed forms of the network's
input size and evaluates them over ranges of sizes; it calls the functions of
``arith.py`` for every window, so there is one copy of the arithmetic.

``Out.sizes`` left as ``None`` means "the output has its first input's dims"
when the shapes agree (activations, normalisations, dropout); an op that changes
a shape must say how.

>>> Window(1, 11, 4, 0, 0, 1, "floor", "none").kernel
11
"""

from __future__ import annotations

from fractions import Fraction

from ._values import frozen
from .conventions import Clip, Rounding

__all__ = [
    "Broadcast",
    "DimRule",
    "Fixed",
    "Keep",
    "Padded",
    "Product",
    "Quotient",
    "Same",
    "SameWindow",
    "Scaled",
    "SizeRule",
    "Total",
    "TransposedWindow",
    "Window",
]


@frozen
class Keep:
    """Output dim = dim ``dim`` of input ``src``."""

    dim: int
    src: int = 0


@frozen
class Fixed:
    """A size that does not depend on the input (channels, adaptive pooling, linear features)."""

    value: int


@frozen
class Window:
    """Sliding windows on input dim ``dim``: ``arith.window_count`` with these arguments."""

    dim: int
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    rounding: Rounding
    clip: Clip


@frozen
class SameWindow:
    """TensorFlow SAME: the padding depends on the input size (``arith.same_padding``)."""

    dim: int
    kernel: int
    stride: int
    dilation: int


@frozen
class TransposedWindow:
    """A transposed convolution on input dim ``dim`` (``arith.transposed_size``)."""

    dim: int
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    output_padding: int


@frozen
class Scaled:
    """``floor(i * factor)`` (upsampling by a scale, PyTorch ``interpolate``)."""

    dim: int
    factor: Fraction


@frozen
class Padded:
    """``i + before + after`` (explicit padding)."""

    dim: int
    before: int
    after: int


@frozen
class Product:
    """The product of input dims ``dims`` (flatten)."""

    dims: tuple[int, ...]


@frozen
class Quotient:
    """``numel(input) / known`` (the -1 of a reshape); the division must be exact."""

    known: int


@frozen
class Total:
    """The sum of dim ``dim`` over all inputs (concatenation along it)."""

    dim: int


@frozen
class Same:
    """Dim ``dim`` of every input, which must all be equal (concat off its axis)."""

    dim: int


@frozen
class Broadcast:
    """Dim ``dim`` of the inputs, each equal to the others or 1 (add, mul)."""

    dim: int


DimRule = (
    Keep | Fixed | Window | SameWindow | TransposedWindow | Scaled | Padded | Product | Quotient | Total
    | Same | Broadcast
)


@frozen
class SizeRule:
    """One rule per output dim, and what else the inputs must satisfy."""

    dims: tuple[DimRule, ...]
    #: (input, dim, smallest size) the op needs besides its windows fitting (reflect padding p < i)
    at_least: tuple[tuple[int, int, int], ...] = ()
    #: the input must have exactly this many elements (a reshape without -1)
    numel: int | None = None
