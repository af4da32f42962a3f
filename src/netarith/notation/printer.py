"""Write a Graph as notation that parses back to the same Graph."""

from __future__ import annotations

from ..graph import Graph, Node
from ..ops.base import Op, arg_fields
from .parser import TRAIN_ONLY, auto_name
from .values import format_value

__all__ = ["format_op", "to_notation"]


def format_op(op: Op) -> str:
    """``conv 96 k11 s4``: the kind and the arguments that differ from their defaults."""
    parts = [op.kind]
    for f, spec in arg_fields(type(op)):
        value = getattr(op, f.name)
        if value == f.default:
            continue
        flag = next((word for word, v in spec.flags if v == value and type(v) is type(value)), None)
        if flag is not None:
            parts.append(flag)
        elif spec.positional and value is not None:
            if spec.kind == "ints":
                parts.extend(str(v) for v in value)
            else:
                parts.append(format_value(spec, value))
        elif spec.short and value is not None:
            parts.append(spec.short + format_value(spec, value))
        elif value is not None:
            parts.append(f"{f.name}={format_value(spec, value)}")
    return " ".join(parts)


def to_notation(graph: Graph, *, header: str | None = None) -> str:
    """The graph as notation text: names only where the parser would not guess them.

    >>> from netarith import parse
    >>> print(to_notation(parse("3x32x32 | c1: conv 8 k3 | relu")), end="")
    input 3x32x32
    c1: conv 8 k3
    relu
    """
    lines: list[str] = []
    if header:
        lines += [f"# {line}" if line else "#" for line in header.splitlines()]
    if graph.name:
        lines.append(f"model {graph.name}")
    if graph.convention:
        lines.append(f"convention {graph.convention}")
    counters: dict[str, int] = {}
    previous: str | None = None
    for node in graph.nodes:
        lines.append(_line(node, counters, previous))
        previous = node.name
    return "\n".join(lines) + "\n"


def _line(node: Node, counters: dict[str, int], previous: str | None) -> str:
    kind = node.op.kind
    n = counters.get(kind, 0) + 1
    text = format_op(node.op)
    if node.train_only:
        text += f" {TRAIN_ONLY}"
    if node.name == auto_name(kind, n):
        counters[kind] = n
        prefix = ""
    else:
        prefix = f"{node.name}: "
    low, high = type(node.op).arity
    takes_names = high is None or high > 1
    inputs = node.inputs
    if high == 0:
        return prefix + text
    if takes_names:
        if len(inputs) >= max(low, 1) and not (len(inputs) == 1 and inputs[0] == previous):
            if len(inputs) == 1:
                return f"{prefix}{text} <- {inputs[0]}"
            return f"{prefix}{text} {' '.join(inputs)}"
        return prefix + text
    if inputs == ((previous,) if previous is not None else ()):
        return prefix + text
    return f"{prefix}{text} <- {', '.join(inputs)}"
