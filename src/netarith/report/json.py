"""The JSON report: exactly the contract of design.md (integers stay integers).

The text is ``json.dumps(report.to_dict(), indent=2)``, except that a list of plain
numbers (a shape, a receptive-field axis) stays on one line. The layers are written here
one by one, straight from the report: ``json``'s indenting encoder runs in pure Python, and
``to_dict`` of a large report holds a dict and four lists per layer at once, which the
garbage collector then walks again and again; written this way a layer costs a few strings.
``_layer`` follows ``LayerResult.to_dict`` key for key; tests/test_report_json.py checks
that the text parses back to ``report.to_dict()`` and is laid out as described, for every
zoo model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii as _str
from typing import Any

from .._values import replace
from ..analyze import LayerResult, Report
from ..receptive import to_json

__all__ = ["render"]


def render(report: Report, indent: int | None = 2) -> str:
    """The report as JSON text.

    >>> from netarith import analyze
    >>> print(render(analyze("3x8x8 | conv 4 k3")).splitlines()[3])
      "input": [3, 8, 8],
    """
    if indent is None:
        return json.dumps(report.to_dict()) + "\n"
    step = " " * indent
    # Everything but the layers, in the contract's order, from to_dict itself; the layers are
    # written one by one into their place.
    shell = replace(report, layers=()).to_dict()
    pad = step * 2  # a layer's braces: inside the top object, inside "layers"
    items = []
    for key, value in shell.items():
        if key == "layers":
            text = "[\n" + ",\n".join(_layers(report.layers, pad, step)) + f"\n{step}]"
        else:
            text = _text(value, step, step)
        items.append(f"{step}{_str(key)}: {text}")
    return "{\n" + ",\n".join(items) + "\n}\n"


def _layers(layers: Sequence[LayerResult], pad: str, step: str) -> list[str]:
    """Each layer's text. A layer often has the receptive field and the shape of the one before
    (an activation keeps its input's): those are written once, and reused while the report
    keeps them alive (so their ids stay theirs)."""
    inner = pad + step
    fields: dict[int, str] = {}
    shapes: dict[int, str] = {}
    texts = []
    for r in layers:
        field = fields.get(id(r.rf))
        if field is None:
            field = fields[id(r.rf)] = _field(r, inner, step)
        shape = shapes.get(id(r.shape))
        if shape is None:
            shape = shapes[id(r.shape)] = _numbers(r.shape.dims)
        texts.append(_layer(r, pad, step, field, shape))
    return texts


def _layer(r: LayerResult, pad: str, step: str, field: str, shape: str) -> str:
    """One layer, as ``LayerResult.to_dict`` has it (its receptive field and shape written)."""
    inner = pad + step
    uncounted = f",\n{inner}\"not_counted\": {_strings(r.uncounted, inner, step)}" if r.uncounted else ""
    return (
        f"{pad}{{\n"
        f"{inner}\"name\": {_str(r.name)},\n"
        f"{inner}\"kind\": {_str(r.kind)},\n"
        f"{inner}\"inputs\": {_strings(r.inputs, inner, step)},\n"
        f"{inner}\"output_shape\": {shape},\n"
        f"{inner}\"neurons\": {r.neurons},\n"
        f"{inner}\"params\": {r.params},\n"
        f"{inner}\"buffers\": {r.buffers},\n"
        f"{inner}\"macs\": {r.macs},\n"
        f"{inner}\"flops\": {r.flops},\n"
        f"{inner}\"receptive_field\": {field},\n"
        f"{inner}\"warnings\": {_strings(r.warnings, inner, step)},\n"
        f"{inner}\"connections\": {r.connections}{uncounted}\n"
        f"{pad}}}"
    )


def _field(r: LayerResult, pad: str, step: str) -> str:
    """The receptive field: exact rationals written as ints or (finite) floats, so ``repr`` is
    JSON's text for each of them."""
    data = to_json(r.rf)
    if data is None:
        return "null"
    inner = pad + step
    axes = [f"{inner}{_str(key)}: [{', '.join(map(repr, values))}]" for key, values in data.items()]
    return "{\n" + ",\n".join(axes) + f"\n{pad}}}"


def _numbers(values: Iterable[int]) -> str:
    """A shape's dims: validated ints (Shape accepts nothing else), on one line."""
    return "[" + ", ".join(map(int.__repr__, values)) + "]"


def _strings(values: Sequence[str], pad: str, step: str) -> str:
    if not values:
        return "[]"
    inner = pad + step
    return "[\n" + ",\n".join([inner + _str(v) for v in values]) + f"\n{pad}]"


def _text(value: Any, pad: str, step: str) -> str:
    """Any JSON value, laid out as ``json.dumps(value, indent=len(step))`` with lists of plain
    numbers on one line; ``pad`` indents the lines after its first."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = pad + step
        items = [f"{inner}{_str(key)}: {_text(item, inner, step)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if _plain_numbers(value):
            return "[" + ", ".join(map(repr, value)) + "]"
        inner = pad + step
        return "[\n" + ",\n".join([inner + _text(item, inner, step) for item in value]) + f"\n{pad}]"
    return json.dumps(value)


def _plain_numbers(values: Sequence[Any]) -> bool:
    """Numbers JSON writes as ``repr`` does: ints and finite floats (not bools, NaN or Infinity)."""
    kinds = set(map(type, values))
    return kinds <= {int, float} and (float not in kinds or all(map(math.isfinite, values)))
