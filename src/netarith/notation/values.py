"""Reading, writing and coercing argument values, by ``ArgSpec.kind``.

``parse_value`` reads notation text (``3x1``, ``0+1``, ``1.5``), ``format_value``
writes it back so that it parses to the same value, and ``coerce`` accepts the
Python values a builder call gives (``kernel=3``, ``padding=(1, 2)``).
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import SpecError
from ..ops.base import ArgSpec
from ..shape import Shape

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["coerce", "format_value", "parse_value"]

_INT_RE = re.compile(r"[+-]?\d+")
_BOOLS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}


def _int(text: str) -> int:
    if not _INT_RE.fullmatch(text):
        raise SpecError(f"expected an integer, got {text!r}")
    if len(text) > 4000:
        raise SpecError(f"number too long ({len(text)} digits)")
    return int(text)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(map(_int, text.split("x")))


def _pair(text: str) -> tuple[int, int]:
    if "+" in text[1:]:
        before, _, after = text.partition("+")
        return _int(before), _int(after)
    value = _int(text)
    return value, value


def _ratio(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"expected a number, got {text!r}") from None
    return value


def parse_value(spec: ArgSpec, text: str) -> Any:
    """Read one argument value from notation text."""
    kind = spec.kind
    if kind == "int":
        return _int(text)
    if kind == "sizes":
        return _sizes(text)
    if kind == "ints":
        return tuple(_int(part) for part in text.split("x"))
    if kind == "padding":
        if text in ("same", "valid"):
            return text
        return tuple(map(_pair, text.split("x")))
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise SpecError(f"expected a number, got {text!r}") from None
    if kind == "ratios":
        return tuple(_ratio(part) for part in text.split("x"))
    if kind == "bool":
        try:
            return _BOOLS[text.lower()]
        except KeyError:
            raise SpecError(f"expected true or false, got {text!r}") from None
    if kind == "choice":
        return text.lower()
    if kind == "str":
        return text
    if kind == "shape":
        return Shape.parse(text)
    raise SpecError(f"unknown argument kind {kind!r}")  # pragma: no cover


def format_value(spec: ArgSpec, value: Any) -> str:
    """Write a value so that :func:`parse_value` reads it back unchanged."""
    kind = spec.kind
    if kind in ("sizes", "ints"):
        return "x".join(str(v) for v in value)
    if kind == "padding":
        if isinstance(value, str):
            return value
        return "x".join(str(b) if b == a else f"{b}+{a}" for b, a in value)
    if kind == "ratios":
        return "x".join(_fmt_fraction(v) for v in value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "float":
        return repr(float(value))
    return str(value)


def _fmt_fraction(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    as_float = float(value)
    if Fraction(repr(as_float)) == value:
        return repr(as_float)
    return f"{value.numerator}/{value.denominator}"


def coerce(spec: ArgSpec, value: Any) -> Any:
    """Accept the friendly Python forms a builder call may use."""
    if value is None:
        return None
    kind = spec.kind
    if isinstance(value, str) and kind not in ("choice", "str"):
        return parse_value(spec, value)
    if kind == "sizes" or kind == "ints":
        if isinstance(value, int):
            return (value,)
        return tuple(value)
    if kind == "padding":
        if isinstance(value, int):
            return ((value, value),)
        items = tuple(value)
        if all(isinstance(v, int) for v in items):
            return tuple((v, v) for v in items)
        return tuple((int(b), int(a)) for b, a in items)
    if kind == "ratios":
        if isinstance(value, (int, float, Fraction)):
            return (Fraction(str(value)) if isinstance(value, float) else Fraction(value),)
        return tuple(Fraction(str(v)) if isinstance(v, float) else Fraction(v) for v in value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "shape":
        return Shape.parse(value)
    return value
