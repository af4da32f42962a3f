"""Node and Graph: a network as a frozen, validated, topologically ordered DAG.

Every source (notation, the Python builder, the zoo, the importers) produces a
:class:`Graph`; the analysis reads nothing else.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence

from ._values import field, frozen
from .errors import GraphError, did_you_mean
from .ops.base import Op
from .ops.input import Input
from .shape import Shape

__all__ = ["NAME_RE", "Graph", "Node", "check_name"]

#: Names a layer may have: a letter, '_' or '/' first; then word characters and . - / [ ] @ +
NAME_RE = re.compile(r"[A-Za-z_/][\w.\-/\[\]@+]*")


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise GraphError(
            f"invalid layer name {name!r}: start with a letter, '_' or '/', then use letters, "
            "digits and . - / [ ] @ +"
        )


@frozen
class Node:
    """One layer: its name, its kind and arguments (``op``), and its inputs' names."""

    name: str
    op: Op
    inputs: tuple[str, ...] = ()
    #: runs only in training (an auxiliary head): its parameters count, its MACs do not in eval
    train_only: bool = False
    #: the line it was written on, for messages; not part of equality
    line: int | None = field(default=None, compare=False, repr=False)
    #: what it was in the framework it was read from: "module:Conv2d", "function:F.relu"
    #: (importers set it; the counting presets of other tools need it); not part of equality
    origin: str | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> str:
        return self.op.kind


@frozen(slots=False)
class Graph:
    """A network: nodes in topological order, names unique, inputs known, no cycles.

    Nodes may be given in any order that has no cycle; they are stored sorted,
    keeping the given order where it already respects the edges.

    >>> from netarith import parse
    >>> g = parse("3x32x32 | conv 8 k3 | relu")
    >>> [n.name for n in g]
    ['input', 'conv_1', 'relu_1']
    """

    nodes: tuple[Node, ...]
    name: str | None = None
    convention: str | None = None
    #: what an importer assumed or left out (the input size it chose, the loss layers it
    #: dropped); the analysis shows them as warnings of the first input. Not part of equality.
    notes: tuple[str, ...] = field(default=(), compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _inputs: tuple[Node, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nodes = tuple(self.nodes)
        index: dict[str, int] = {}
        inputs: list[Node] = []
        in_order = True  # every input written before its layer: no sort needed
        # One pass over the nodes, not one per check: a long network's nodes fill more than the
        # processor's caches, and each pass would fetch them all again.
        for i, node in enumerate(nodes):
            name = node.name
            check_name(name)
            if name in index:
                raise GraphError(f"{_at(node)}duplicate layer name {name!r}", layer=name, line=node.line)
            _check_arity(node)
            if isinstance(node.op, Input):
                inputs.append(node)
            if in_order:
                for source in node.inputs:
                    if source not in index:
                        in_order = False  # later, or unknown: told apart below
            index[name] = i
        if not in_order:
            for node in nodes:
                for source in node.inputs:
                    if source not in index:
                        raise GraphError(
                            f"{_at(node)}{node.name}: unknown input {source!r}{did_you_mean(source, index)}",
                            layer=node.name, line=node.line,
                        )
            nodes = _toposort(nodes, index)
            index = {node.name: i for i, node in enumerate(nodes)}
            inputs = [node for node in nodes if isinstance(node.op, Input)]
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_inputs", tuple(inputs))

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> Node:
        try:
            return self.nodes[self._index[name]]
        except KeyError:
            raise GraphError(f"no layer named {name!r}{did_you_mean(name, self._index)}") from None

    def index(self, name: str) -> int:
        return self._index[name]

    @property
    def inputs(self) -> tuple[Node, ...]:
        """The input layers, in order."""
        return self._inputs

    @property
    def outputs(self) -> tuple[Node, ...]:
        used = {name for n in self.nodes for name in n.inputs}
        return tuple(n for n in self.nodes if n.name not in used)

    def with_input(self, shape: Shape | str | Sequence[int], name: str | None = None) -> Graph:
        """The same graph with one input's shape replaced."""
        new = Shape.parse(shape)  # type: ignore[arg-type]
        inputs = self.inputs
        if not inputs:
            raise GraphError("the network has no input layer to resize")
        if name is None:
            if len(inputs) > 1:
                names = ", ".join(n.name for n in inputs)
                raise GraphError(f"the network has several inputs ({names}); name the one to resize")
            name = inputs[0].name
        target = self[name]
        if not isinstance(target.op, Input):
            raise GraphError(f"{name!r} is not an input layer")
        nodes = tuple(
            Node(n.name, Input(shape=new), n.inputs, n.train_only, n.line, n.origin) if n.name == name else n
            for n in self.nodes
        )
        return Graph(nodes, self.name, self.convention, self.notes)

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a graph as its volumes diagram (None, the plain repr, if it does not compute)."""
        from .analyze import analyze_graph
        from .draw import draw
        from .errors import NetarithError

        try:
            return draw(analyze_graph(self))
        except NetarithError:
            return None

    def replace(self, *, name: str | None = None, convention: str | None = None) -> Graph:
        return Graph(self.nodes, name if name is not None else self.name,
                     convention if convention is not None else self.convention, self.notes)


def _at(node: Node) -> str:
    return f"line {node.line}: " if node.line else ""


def _check_arity(node: Node) -> None:
    low, high = node.op.arity
    n = len(node.inputs)
    if n < low or (high is not None and n > high):
        want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
        raise GraphError(f"{_at(node)}{node.name}: {node.kind} takes {want} input(s), got {n}",
                         layer=node.name, line=node.line)


def _toposort(nodes: tuple[Node, ...], index: dict[str, int]) -> tuple[Node, ...]:
    """Kahn's algorithm, taking the earliest-written ready node first; names a cycle."""
    waiting = [len(set(n.inputs)) for n in nodes]
    users: list[list[int]] = [[] for _ in nodes]
    for i, node in enumerate(nodes):
        for name in set(node.inputs):
            users[index[name]].append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in users[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(nodes):
        raise GraphError(_describe_cycle(nodes, index, {i for i, w in enumerate(waiting) if w}))
    return tuple(nodes[i] for i in order)


def _describe_cycle(nodes: tuple[Node, ...], index: dict[str, int], stuck: set[int]) -> str:
    """Follow inputs among the stuck nodes until one repeats: that loop is a cycle."""
    start = min(stuck)
    path: list[int] = []
    seen: dict[int, int] = {}
    i = start
    while i not in seen:
        seen[i] = len(path)
        path.append(i)
        i = next(index[name] for name in nodes[i].inputs if index[name] in stuck)
    loop = [*path[seen[i]:], i]
    names = " -> ".join(nodes[j].name for j in reversed(loop))
    return f"{_at(nodes[loop[0]])}the layers form a cycle: {names}"
