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

from .._values import replace
from ..analyze import Counts, LayerResult, Report
from ..receptive import to_json

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

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
    # The pieces of the whole text, joined once at the end: a large report's text is tens of
    # megabytes, and each concatenation of the layers' text with its brackets would copy it.
    pieces = ["{\n"]
    for n, (key, value) in enumerate(shell.items()):
        pieces.append(f",\n{step}{_str(key)}: " if n else f"{step}{_str(key)}: ")
        if key == "layers":
            pieces.append("[\n")
            for i, layer in enumerate(_layers(report.layers, pad, step)):
                if i:
                    pieces.append(",\n")
                pieces.append(layer)
            pieces.append(f"\n{step}]")
        else:
            pieces.append(_text(value, step, step))
    pieces.append("\n}\n")
    return "".join(pieces)


def _layers(layers: Sequence[LayerResult], pad: str, step: str) -> list[str]:
    """Each layer's text. A layer often has the receptive field and the shape of the one before
    (an activation keeps its input's): those are written once, and reused while the report
    keeps them alive (so their ids stay theirs)."""
    inner = pad + step
    keys = _Keys(pad, inner, step)
    fields: dict[int, str] = {}
    numbers: dict[int, tuple[str, str]] = {}  # layers alike share their counts, and their text
    texts = []
    for r in layers:
        field = fields.get(id(r.rf))
        if field is None:
            field = fields[id(r.rf)] = _field(r, inner, step)
        counted = numbers.get(id(r.counts))
        if counted is None:
            counted = numbers[id(r.counts)] = _counts(r.counts, keys)
        texts.append(_layer(r, keys, field, counted))
    return texts


class _Keys:
    """A layer's keys with the indents and commas around them, made once per report."""

    __slots__ = (
        "buffers",
        "connections",
        "end",
        "field",
        "flops",
        "inner",
        "inputs",
        "kind",
        "macs",
        "name",
        "neurons",
        "not_counted",
        "params",
        "shape",
        "step",
        "warnings",
    )

    def __init__(self, pad: str, inner: str, step: str) -> None:
        self.inner, self.step = inner, step
        self.name = f"{pad}{{\n{inner}\"name\": "
        self.kind, self.inputs, self.shape, self.neurons, self.params, self.buffers, self.macs, \
            self.flops, self.field, self.warnings, self.connections, self.not_counted = (
                f",\n{inner}\"{key}\": " for key in (
                    "kind", "inputs", "output_shape", "neurons", "params", "buffers", "macs", "flops",
                    "receptive_field", "warnings", "connections", "not_counted"))
        self.end = f"\n{pad}}}"


def _counts(c: Counts, k: _Keys) -> tuple[str, str]:
    """The text of a layer's counts: from its shape to its flops, and from its connections on."""
    uncounted = f"{k.not_counted}{_strings(c.uncounted, k.inner, k.step)}" if c.uncounted else ""
    return (
        f"{k.shape}{_numbers(c.shape.dims)}{k.neurons}{c.neurons}{k.params}{c.params}{k.buffers}{c.buffers}"
        f"{k.macs}{c.macs}{k.flops}{2 * c.macs}",
        f"{k.connections}{c.connections}{uncounted}{k.end}",
    )


def _layer(r: LayerResult, k: _Keys, field: str, counted: tuple[str, str]) -> str:
    """One layer, as ``LayerResult.to_dict`` has it (its receptive field and counts written)."""
    inner, step = k.inner, k.step
    node = r.node
    return (
        f"{k.name}{_str(node.name)}{k.kind}{_str(node.op.kind)}{k.inputs}{_strings(node.inputs, inner, step)}"
        f"{counted[0]}{k.field}{field}{k.warnings}{_strings(r.warnings, inner, step)}{counted[1]}"
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
    if len(values) == 1:  # a layer's one input
        return f"[\n{inner}{_str(values[0])}\n{pad}]"
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
