"""Derivations: the steps behind each number, recorded by the code that computes it.

The arithmetic in ``ops/`` and ``arith.py`` takes an optional :class:`Trace`.
When it is ``None`` (the normal, fast path) nothing is recorded; when ``explain``
asks, the same code records each formula, the formula with its numbers in it,
and the result. There is no second copy of the arithmetic written as strings.
"""

from __future__ import annotations

from fractions import Fraction

from ._values import field, frozen, mutable

__all__ = ["Step", "Trace", "fmt_num"]


@frozen
class Step:
    """One derivation step: ``quantity = formula = numbers = result``."""

    quantity: str
    formula: str
    numbers: str
    result: str
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "quantity": self.quantity,
            "formula": self.formula,
            "numbers": self.numbers,
            "result": self.result,
            "note": self.note,
        }


@mutable
class Trace:
    """Collects :class:`Step` objects in the order they are computed."""

    steps: list[Step] = field(default_factory=list)

    def step(self, quantity: str, formula: str, numbers: str, result: object, note: str = "") -> None:
        self.steps.append(Step(quantity, formula, numbers, fmt_num(result), note))

    def note(self, quantity: str, text: str) -> None:
        """A step with no formula: a fact the derivation relies on."""
        self.steps.append(Step(quantity, "", "", "", text))


def fmt_num(value: object) -> str:
    """Write a number exactly: ints with separators, fractions as decimals when finite."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"{value.numerator:,}"
        return _decimal(value)
    return str(value)


def _decimal(value: Fraction) -> str:
    """A fraction as a decimal if it terminates within 6 places, else a/b."""
    den = value.denominator
    for _ in range(64):
        if den % 2 == 0:
            den //= 2
        elif den % 5 == 0:
            den //= 5
        else:
            break
    if den == 1:
        text = f"{float(value):.6f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{value.numerator}/{value.denominator}"
