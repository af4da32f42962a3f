"""Shape: the per-sample size of a tensor (no batch axis), channels first.

``Shape((96, 55, 55))`` is 96 channels of 55x55; ``Shape((4096,))`` a vector.
The number of dimensions after the first picks 1d, 2d or 3d layers.
"""

from __future__ import annotations

import math
import re

from ._values import frozen
from .errors import SpecError

__all__ = ["AXIS_NAMES", "Shape", "spatial_names"]

_SHAPE_RE = re.compile(r"^\s*\d+(\s*[x×*,]\s*\d+)*\s*$")
_SPLIT_RE = re.compile(r"\s*[x×*,]\s*")
#: longer sizes are refused (Python will not read more than 4,300 digits, and no tensor has them)
_MAX_DIGITS = 4000

# Names for spatial axes by spatial rank, for messages and derivations.
AXIS_NAMES: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("L",),
    2: ("H", "W"),
    3: ("D", "H", "W"),
}


def spatial_names(rank: int) -> tuple[str, ...]:
    """The names of ``rank`` spatial axes: ``("H", "W")`` in 2d, ``S0, S1...`` past 3d."""
    names = AXIS_NAMES.get(rank)
    return names if names is not None else tuple(f"S{i}" for i in range(rank))


@frozen(cache_hash=True)  # a memo key of the analysis, hashed again and again
class Shape:
    """A per-sample tensor shape: ``dims[0]`` is channels, the rest spatial.

    >>> s = Shape.parse("3x224x224")
    >>> s.channels, s.spatial, s.numel
    (3, (224, 224), 150528)
    >>> str(s)
    '3x224x224'
    """

    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.dims:
            raise SpecError("a shape needs at least one dimension (channels)")
        for d in self.dims:
            if type(d) is not int or d < 1:
                raise SpecError(f"shape dimensions must be positive integers: {self.dims}")

    @classmethod
    def parse(cls, text: str | Shape | tuple[int, ...] | list[int]) -> Shape:
        """Read ``"3x224x224"`` (also ``3,224,224``), a tuple, or a Shape."""
        if isinstance(text, Shape):
            return text
        if isinstance(text, (tuple, list)):
            return cls(tuple(int(d) for d in text))
        if not isinstance(text, str) or not _SHAPE_RE.match(text):
            raise SpecError(
                f"not a shape: {text!r}; write channels then sizes, e.g. '3x224x224'"
            )
        parts = _SPLIT_RE.split(text.strip())
        if any(len(p) > _MAX_DIGITS for p in parts):
            raise SpecError(f"not a shape: a size of more than {_MAX_DIGITS:,} digits in {text[:40]!r}...")
        return cls(tuple(int(p) for p in parts))

    @property
    def channels(self) -> int:
        return self.dims[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.dims[1:]

    @property
    def rank(self) -> int:
        """Number of spatial axes (0 for a vector)."""
        return len(self.dims) - 1

    @property
    def numel(self) -> int:
        return math.prod(self.dims)

    def with_channels(self, channels: int) -> Shape:
        return Shape((channels, *self.dims[1:]))

    def with_spatial(self, spatial: tuple[int, ...]) -> Shape:
        return Shape((self.dims[0], *spatial))

    def axis_names(self) -> tuple[str, ...]:
        return spatial_names(len(self.dims) - 1)

    def to_list(self) -> list[int]:
        return list(self.dims)

    def __str__(self) -> str:
        return "x".join(str(d) for d in self.dims)
