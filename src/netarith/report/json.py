"""The JSON report: exactly the contract of design.md (integers stay integers).

The layout is ``json.dumps(report.to_dict(), indent=2)``'s, except that a list of plain
numbers (a shape, a receptive-field axis) stays on one line. It is written here rather
than by ``json``'s indenting encoder, which runs in pure Python and was most of the time
of a large report; strings still go through ``json``'s own (C) escaping.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii
from typing import Any

from ..analyze import Report

__all__ = ["dumps", "render"]


def render(report: Report, indent: int | None = 2) -> str:
    if indent is None:
        return json.dumps(report.to_dict()) + "\n"
    return dumps(report.to_dict(), indent) + "\n"


def dumps(value: Any, indent: int = 2) -> str:
    """``json.dumps(value, indent=indent)``, with lists of plain numbers on one line.

    >>> print(dumps({"shape": [3, 224, 224], "inputs": ["a"], "rf": None}))
    {
      "shape": [3, 224, 224],
      "inputs": [
        "a"
      ],
      "rf": null
    }
    """
    out: list[str] = []
    _write(value, "", " " * indent, out)
    return "".join(out)


def _write(value: Any, pad: str, step: str, out: list[str]) -> None:
    """Append ``value``'s text to ``out``; ``pad`` is the indentation of its line."""
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = pad + step
        sep = "{\n" + inner
        for key, item in value.items():
            out.append(f"{sep}{encode_basestring_ascii(key)}: ")
            # ints and strings, most of a report, are written here, without a call of their own
            kind = type(item)
            if kind is int:
                out.append(int.__repr__(item))
            elif kind is str:
                out.append(encode_basestring_ascii(item))
            else:
                _write(item, inner, step, out)
            sep = ",\n" + inner
        out.append("\n" + pad + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
        elif _plain_numbers(value):
            out.append("[" + ", ".join(map(repr, value)) + "]")
        else:
            inner = pad + step
            sep = "[\n" + inner
            for item in value:
                out.append(sep)
                _write(item, inner, step, out)
                sep = ",\n" + inner
            out.append("\n" + pad + "]")
    elif type(value) is str:
        out.append(encode_basestring_ascii(value))
    else:
        out.append(json.dumps(value))


_NUMBER_TYPES = {int, float}


def _plain_numbers(values: list[Any] | tuple[Any, ...]) -> bool:
    """Numbers JSON writes as ``repr`` does: ints and finite floats (no bools, NaN or Infinity)."""
    kinds = set(map(type, values))
    return kinds <= _NUMBER_TYPES and (float not in kinds or all(map(math.isfinite, values)))
