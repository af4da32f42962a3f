"""Writing networks in Python: a builder with a method per layer kind.

>>> from netarith import Builder
>>> b = Builder("3x32x32", name="tiny")
>>> x = b.conv(16, k=3, p=1, name="stem")
>>> b.relu()
'relu_1'
>>> y = b.conv(16, k=3, p=1)
>>> b.add(x, y)
'add_1'
>>> b.flatten(); b.linear(10)
'flatten_1'
'linear_1'
>>> b.graph().name, len(b.graph())
('tiny', 7)

Arguments are the notation's: positional values first (``out``), then keywords
by long name (``kernel=3``), short name (``k=3``) or flag (``ceil=True``,
``bias=False``). ``name=`` names the layer; ``inputs=`` takes a name or a list
(default: the previous layer); ``train_only=True`` marks an auxiliary head (its
MACs are not counted in eval mode). ``with b.scope("layer1.0"):`` prefixes names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from .errors import GraphError, SpecError, did_you_mean
from .graph import Graph, Node
from .notation.parser import _grammar, auto_name
from .notation.values import coerce
from .ops.base import REGISTRY, Op
from .ops.input import Input
from .shape import Shape

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Builder"]


class Builder:
    """Builds a :class:`Graph` one layer at a time."""

    def __init__(self, input: str | Shape | Sequence[int] | None = None, *, name: str | None = None,
                 convention: str | None = None, input_name: str = "input") -> None:
        self.name = name
        self.convention = convention
        self._nodes: list[Node] = []
        self._names: set[str] = set()
        self._counters: dict[str, int] = {}
        # Layers written alike (ResNet's repeated blocks) share one frozen op, as in the notation:
        # the analysis then finds a repeat by identity, without comparing field by field.
        self._alike: dict[Op, Op] = {}
        self._prefix: list[str] = []
        self.last: str | None = None
        if input is not None:
            self.input(input, name=input_name)

    def input(self, shape: str | Shape | Sequence[int], name: str | None = None) -> str:
        return self._add(Input(shape=Shape.parse(shape)), name, ())  # type: ignore[arg-type]

    @contextlib.contextmanager
    def scope(self, prefix: str) -> Iterator[None]:
        """Prefix the names given inside: ``with b.scope("layer1"): b.conv(..., name="conv1")``."""
        self._prefix.append(prefix)
        try:
            yield
        finally:
            self._prefix.pop()

    def qualify(self, name: str) -> str:
        """A name as it is stored inside the current scope."""
        return ".".join([*self._prefix, name])

    def layer(self, kind: str, *args: Any, name: str | None = None,
              inputs: str | Sequence[str] | None = None, train_only: bool = False, **kwargs: Any) -> str:
        """Add a layer of any kind; returns its name."""
        cls = REGISTRY.get(kind.lower())
        if cls is None:
            raise SpecError(f"unknown kind {kind!r}{did_you_mean(kind.lower(), REGISTRY)}")
        takes_names = cls.arity[1] is None or cls.arity[1] > 1
        if takes_names and args and all(isinstance(a, str) for a in args):
            if inputs is not None:
                raise SpecError(f"{kind}: name the inputs either as arguments or with inputs=, not both")
            inputs, args = list(args), ()
        op = _make(cls, args, kwargs)
        if isinstance(inputs, str):
            inputs = (inputs,)
        if inputs is None:
            if cls.arity[1] == 0:
                ins: tuple[str, ...] = ()
            elif self.last is None:
                raise GraphError(f"{kind} has no input: add an input first")
            else:
                ins = (self.last,)
        else:
            ins = tuple(inputs)
            low = cls.arity[0]
            if len(ins) < low and self.last is not None:
                ins = (self.last, *ins)
        return self._add(op, name, ins, train_only)

    def __getattr__(self, kind: str) -> Callable[..., str]:
        if kind.startswith("_"):
            raise AttributeError(kind)
        if kind.lower() not in REGISTRY:
            raise AttributeError(f"Builder has no layer kind {kind!r}{did_you_mean(kind, REGISTRY)}")

        def add_layer(*args: Any, **kwargs: Any) -> str:
            return self.layer(kind, *args, **kwargs)

        return add_layer

    def _add(self, op: Op, name: str | None, inputs: tuple[str, ...], train_only: bool = False) -> str:
        if name is None:
            n = self._counters.get(op.kind, 0) + 1
            full = self.qualify(auto_name(op.kind, n))
            while full in self._names:
                n += 1
                full = self.qualify(auto_name(op.kind, n))
            self._counters[op.kind] = n
        else:
            full = self.qualify(name)
        if full in self._names:
            raise GraphError(f"duplicate layer name {full!r}")
        for i in inputs:
            if i not in self._names:
                raise GraphError(f"{full}: unknown input {i!r}{did_you_mean(i, self._names)}")
        self._names.add(full)
        self._nodes.append(Node(full, self._alike.setdefault(op, op), inputs, train_only))
        self.last = full
        return full

    def graph(self) -> Graph:
        return Graph(tuple(self._nodes), self.name, self.convention)


def _make(cls: type[Op], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Op:
    g = _grammar(cls)
    values: dict[str, Any] = {}
    positional = list(g.positional)
    for value in args:
        if not positional:
            raise SpecError(f"{cls.kind} takes {len(g.positional)} positional argument(s), got {len(args)}")
        values[positional.pop(0)] = value
    shorts = g.short_fields
    for key, value in kwargs.items():
        field = g.longs.get(key) or shorts.get(key)
        if field is None and key in g.flags:
            field, flag_value = g.flags[key]
            if value is True:
                value = flag_value
            elif value is False:
                continue
        if field is None:
            words = list(g.longs) + list(shorts) + list(g.flags)
            raise SpecError(f"{cls.kind} has no argument {key!r}{did_you_mean(key, words)}")
        if field in values:
            raise SpecError(f"{cls.kind}: '{field}' is given twice")
        values[field] = value
    coerced = {f: coerce(g.specs[f], v) for f, v in values.items()}
    try:
        return cls(**coerced)
    except TypeError as exc:
        missing = [f for f in g.required if f not in coerced]
        if missing:
            raise SpecError(f"{cls.kind} needs {', '.join(missing)}") from None
        raise SpecError(f"{cls.kind}: {exc}") from None
