"""Closed forms of a layer's size as a function of the network's input size.

Sliding windows floor (or ceil) an affine expression of their input size, and
such floors compose: for integers ``y`` and positive ``m, n``,
``floor((floor(y/m) + b)/n) = floor((y + b*m)/(m*n))``, and a ceil is a floor
with a shifted numerator, ``ceil(y/n) = floor((y + n - 1)/n)``. So a chain of
convolutions and pools collapses into one ``floor((H + a)/m)``:

>>> h = Var("H")
>>> conv1 = affine(h, add=-11 + 4, div=4)            # floor((H - 11)/4) + 1
>>> pool1 = affine(conv1, add=-3 + 2, div=2)         # floor((x - 3)/2) + 1
>>> str(pool1), pool1.value({"H": 227})
('floor((H - 11)/8)', 27)

Multiplications (transposed convolutions, upsampling) nest where they cannot
fold. Every expression is monotone non-decreasing in each variable where it is
positive, which is what lets ``sizes.py`` find thresholds by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ._values import frozen

__all__ = [
    "Aff",
    "Const",
    "Expr",
    "Min",
    "NoClosedForm",
    "Prod",
    "Sum",
    "Unknown",
    "Var",
    "affine",
    "minimum",
    "product",
    "total",
]


class NoClosedForm(Exception):
    """Raised when an :class:`Unknown` is evaluated."""


class Expr:
    """An integer expression of the input sizes."""

    __slots__ = ()

    def value(self, env: Mapping[str, int]) -> int:
        raise NotImplementedError

    def variables(self) -> frozenset[str]:
        raise NotImplementedError

    @property
    def known(self) -> bool:
        return True


@frozen
class Var(Expr):
    """An input size (``H``, ``W``...)."""

    name: str

    def value(self, env: Mapping[str, int]) -> int:
        return env[self.name]

    def variables(self) -> frozenset[str]:
        return frozenset((self.name,))

    def __str__(self) -> str:
        return self.name


@frozen
class Const(Expr):
    n: int

    def value(self, env: Mapping[str, int]) -> int:
        return self.n

    def variables(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return str(self.n)


@frozen
class Aff(Expr):
    """``floor((mul * inner + add) / div)`` with ``mul, div > 0``."""

    inner: Expr
    mul: int
    add: int
    div: int

    def value(self, env: Mapping[str, int]) -> int:
        return (self.mul * self.inner.value(env) + self.add) // self.div

    def variables(self) -> frozenset[str]:
        return self.inner.variables()

    @property
    def known(self) -> bool:
        return self.inner.known

    def __str__(self) -> str:
        inner = str(self.inner)
        if isinstance(self.inner, (Sum, Min)) and self.mul != 1:
            inner = f"({inner})"
        if self.div == 1:
            return _linear(inner, self.mul, self.add)
        add, name = self.add, "floor"
        # floor((y + a)/d) = ceil((y + a - d + 1)/d): write whichever offset is smaller.
        if abs(add - (self.div - 1)) < abs(add):
            add, name = add - (self.div - 1), "ceil"
        numerator = _linear(inner, self.mul, add)
        if numerator != inner or isinstance(self.inner, (Sum, Prod)):
            numerator = f"({numerator})"
        return f"{name}({numerator}/{self.div})"


def _linear(inner: str, mul: int, add: int) -> str:
    text = inner if mul == 1 else f"{mul}*{inner}"
    if add > 0:
        return f"{text} + {add}"
    if add < 0:
        return f"{text} - {-add}"
    return text


@frozen
class Min(Expr):
    terms: tuple[Expr, ...]

    def value(self, env: Mapping[str, int]) -> int:
        return min(t.value(env) for t in self.terms)

    def variables(self) -> frozenset[str]:
        return frozenset().union(*(t.variables() for t in self.terms))

    @property
    def known(self) -> bool:
        return all(t.known for t in self.terms)

    def __str__(self) -> str:
        return f"min({', '.join(map(str, self.terms))})"


@frozen
class Sum(Expr):
    terms: tuple[Expr, ...]

    def value(self, env: Mapping[str, int]) -> int:
        return sum(t.value(env) for t in self.terms)

    def variables(self) -> frozenset[str]:
        return frozenset().union(*(t.variables() for t in self.terms))

    @property
    def known(self) -> bool:
        return all(t.known for t in self.terms)

    def __str__(self) -> str:
        return " + ".join(map(str, self.terms))


@frozen
class Prod(Expr):
    terms: tuple[Expr, ...]

    def value(self, env: Mapping[str, int]) -> int:
        return math.prod(t.value(env) for t in self.terms)

    def variables(self) -> frozenset[str]:
        return frozenset().union(*(t.variables() for t in self.terms))

    @property
    def known(self) -> bool:
        return all(t.known for t in self.terms)

    def __str__(self) -> str:
        return "*".join(f"({t})" if isinstance(t, (Sum, Min)) or (isinstance(t, Aff) and t.div == 1 and t.add)
                        else str(t) for t in self.terms)


@frozen
class Unknown(Expr):
    """No closed form (a layer without size rules, or a case the algebra does not fold)."""

    reason: str

    def value(self, env: Mapping[str, int]) -> int:
        raise NoClosedForm(self.reason)

    def variables(self) -> frozenset[str]:
        return frozenset()

    @property
    def known(self) -> bool:
        return False

    def __str__(self) -> str:
        return "?"


def _parts(e: Expr) -> tuple[Expr, int, int, int]:
    """``e`` as ``floor((mul*inner + add)/div)``."""
    if isinstance(e, Aff):
        return e.inner, e.mul, e.add, e.div
    return e, 1, 0, 1


def affine(e: Expr, mul: int = 1, add: int = 0, div: int = 1) -> Expr:
    """``floor((mul*e + add)/div)``, folded into ``e`` where the algebra allows.

    >>> str(affine(affine(Var("H"), 2, -1), 1, 3, 4))  # floor((2H + 2)/4) = floor((H + 1)/2)
    'ceil(H/2)'
    """
    if not mul > 0 < div:
        raise ValueError(f"affine needs mul > 0 and div > 0: {mul}, {div}")
    if not e.known:
        return e
    if isinstance(e, Const):
        return Const((mul * e.n + add) // div)
    if isinstance(e, Aff):
        if e.div == 1:
            return affine(e.inner, mul * e.mul, mul * e.add + add, div)
        if mul == 1:
            # floor((floor(y/m) + b)/n) = floor((y + b*m)/(m*n)) for integer y
            return affine(e.inner, e.mul, e.add + add * e.div, e.div * div)
    if div != 1 and mul % div == 0:
        mul, add, div = mul // div, add // div, 1
    g = math.gcd(mul, add, div)
    if g > 1:
        mul, add, div = mul // g, add // g, div // g
    if mul == 1 and add == 0 and div == 1:
        return e
    return Aff(e, mul, add, div)


def minimum(a: Expr, b: Expr) -> Expr:
    """``min(a, b)``, one floor when both floor the same expression by the same divisor."""
    if a == b:
        return a
    if not (a.known and b.known):
        return a if not a.known else b
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(min(a.n, b.n))
    ia, ma, aa, da = _parts(a)
    ib, mb, ab, db = _parts(b)
    if ia == ib and ma == mb and da == db:
        return affine(ia, ma, min(aa, ab), da)
    return Min((a, b))


def total(terms: Sequence[Expr]) -> Expr:
    """The sum of ``terms``, with constants and whole multiples of one expression folded."""
    unknown = next((t for t in terms if not t.known), None)
    if unknown is not None:
        return unknown
    constant = 0
    linear: dict[Expr, list[int]] = {}
    rest: list[Expr] = []
    for t in terms:
        inner, mul, add, div = _parts(t)
        if isinstance(t, Const):
            constant += t.n
        elif div == 1:
            constant += add
            linear.setdefault(inner, [0])[0] += mul
        else:
            rest.append(t)
    parts = [affine(inner, mul[0]) for inner, mul in linear.items()] + rest
    if not parts:
        return Const(constant)
    if len(parts) == 1:
        return affine(parts[0], 1, constant)
    if constant:
        parts.append(Const(constant))
    return Sum(tuple(parts))


def product(terms: Sequence[Expr]) -> Expr:
    """The product of ``terms``, constants first."""
    unknown = next((t for t in terms if not t.known), None)
    if unknown is not None:
        return unknown
    constant = math.prod(t.n for t in terms if isinstance(t, Const))
    rest = [t for t in terms if not isinstance(t, Const)]
    if not rest or constant == 0:
        return Const(constant)
    if len(rest) == 1:
        return affine(rest[0], constant)
    return Prod(((Const(constant),) if constant != 1 else ()) + tuple(rest))
