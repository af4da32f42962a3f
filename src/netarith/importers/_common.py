"""What the model-file importers share: located messages, layer names, and an assembler
that computes every layer's shape as the graph is built, so an importer decides from
what it knows and a bad file fails at the layer that is wrong, not later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .._values import field, frozen, mutable
from ..conventions import get_convention
from ..errors import NetarithError, ShapeError, SourceError, SpecError
from ..graph import NAME_RE, Graph, Node
from ..ops.base import Context, Op
from ..shape import Shape

__all__ = ["MAX_TEXT_BYTES", "Assembler", "Place", "clean_name", "located", "parse_input", "read_text"]

#: Text model files larger than this are refused before reading.
MAX_TEXT_BYTES = 64 * 1024 * 1024

_BAD_CHARS = re.compile(r"[^\w.\-/\[\]@+]")


@frozen
class Place:
    """Where something sits in a text file, for messages: path, 1-based line and column, the line."""

    source: str
    line: int
    column: int
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


def located(place: Place | str, message: str) -> str:
    """``file:line:col: message`` and, for a text place, the line with a caret under the column.

    >>> print(located(Place("net.prototxt", 3, 16, "  kernel_size: -3"), "must be positive"))
    net.prototxt:3:16: must be positive
          kernel_size: -3
                       ^
    """
    if isinstance(place, str):
        return f"{place}: {message}" if place else message
    shown = place.text.rstrip("\n")
    caret = place.column - 1
    if len(shown) > 200:  # a huge line must not become a huge message
        start = max(0, caret - 100)
        shown, caret = shown[start : start + 200], caret - start
    return f"{place}: {message}\n    {shown}\n    {' ' * caret}^"


def clean_name(raw: str, fallback: str) -> str:
    """A valid netarith layer name from a framework's name: other characters become '_'.

    >>> clean_name("/layer1/layer1.0/conv1/Conv", "x"), clean_name("input:0", "x"), clean_name("", "conv_3")
    ('/layer1/layer1.0/conv1/Conv', 'input_0', 'conv_3')
    >>> clean_name("1", "x")
    '_1'
    """
    name = _BAD_CHARS.sub("_", raw.strip())
    if not name:
        name = fallback
    if not NAME_RE.fullmatch(name):
        name = "_" + name
    return name


def read_text(path: Path) -> str:
    """A text model file, refused with a clear message if it is huge or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise SourceError(f"{path}: {size:,} bytes is too large for a text model file")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); is this a binary file?") from None


def parse_input(value: object) -> Shape | None:
    """The ``input=`` an importer receives (text, tuple or Shape), or None."""
    if value is None:
        return None
    return Shape.parse(value)  # type: ignore[arg-type]


@mutable(slots=False)
class Assembler:
    """Collects nodes, keeps their names unique, and infers each node's shape on arrival."""

    convention: str
    nodes: list[Node] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    renamed: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ctx = Context(get_convention(self.convention))

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``... if it is taken."""
        if name not in self.shapes:
            return name
        n = self.renamed.get(name, 1)
        while f"{name}_{n + 1}" in self.shapes:
            n += 1
        self.renamed[name] = n + 1
        return f"{name}_{n + 1}"

    def add(self, name: str, op: Op, inputs: Sequence[str], where: Place | str,
            *, train_only: bool = False) -> str:
        """Add a node; its shape is computed now. Errors name the place in the file."""
        name = self.unique(name)
        low, high = op.arity
        if len(inputs) < low or (high is not None and len(inputs) > high):
            want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
            raise SourceError(located(where, f"{name}: {op.kind} takes {want} input(s), got {len(inputs)}"))
        ins = [self.shapes[i] for i in inputs]
        try:
            out = op.infer(ins, self._ctx)
        except (ShapeError, SpecError) as exc:
            got = ", ".join(str(s) for s in ins)
            detail = f" [input {got}]" if got and got not in str(exc) else ""
            raise type(exc)(located(where, f"{name}: {exc}{detail}")) from None
        self.nodes.append(Node(name, op, tuple(inputs), train_only))
        self.shapes[name] = out.shape
        return name

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def graph(self, name: str | None) -> Graph:
        try:
            return Graph(tuple(self.nodes), name, self.convention, tuple(self.notes))
        except NetarithError as exc:  # pragma: no cover - the importers check as they go
            raise SourceError(str(exc)) from None
