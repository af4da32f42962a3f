"""The text notation: one layer a line, ``[name:] kind [args] [<- inputs]``.

::

    # AlexNet, first layers
    convention cuda-convnet
    input 3x224x224
    conv1: conv 96 k11 s4
    relu
    pool1: maxpool k3 s2
    skip: conv 96 k1 <- pool1
    add pool1 skip

``|`` separates layers on one line, and a one-liner may start with the input
shape: ``3x227x227 | conv 96 k11 s4 | relu``. ``#`` starts a comment.
Directives: ``convention NAME`` and ``model NAME``. ``@train`` marks a layer that runs
only in training (an auxiliary classifier): its parameters count, its MACs do not.

Errors are :class:`NotationError` with the line, the column, the line itself
with a caret, and the nearest valid word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .._values import MISSING, frozen
from ..conventions import get_convention
from ..errors import GraphError, NetarithError, NotationError, SpecError, did_you_mean
from ..graph import NAME_RE, Graph, Node
from ..ops.base import REGISTRY, ArgSpec, Op, arg_fields
from ..ops.input import Input
from ..shape import Shape
from .values import parse_value

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["auto_name", "parse"]

_SHAPE_RE = re.compile(r"\d+(x\d+)*")
_TOKEN_RE = re.compile(r"\S+")
_SHORT_VALUE_RE = re.compile(r"[-+]?\d")
_SHORT_RE = re.compile(r"([a-z]+)[-+]?\d")
_DIRECTIVES = ("convention", "model")
_Tokens = list[tuple[str, int]]  # (text, offset in the segment)
#: how a layer's text reads: name, kind, inputs after '<-', runs only in training, its op, and
#: the inputs named among its arguments
_Reading = tuple[str | None, type[Op], _Tokens | None, bool, Op, _Tokens]
#: marks a layer that runs only in training (an auxiliary head)
TRAIN_ONLY = "@train"


@frozen
class _Segment:
    """One layer's text, with where it sits in the source."""

    text: str
    line: int
    column: int  # 1-based column of text[0]
    full: str  # the whole source line, for the caret


@frozen
class _Grammar:
    """How one op class reads its arguments (built once per class)."""

    flags: dict[str, tuple[str, Any]]
    shorts: tuple[tuple[str, str], ...]  # (prefix, field), longest prefix first
    short_fields: dict[str, str]  # prefix -> field
    longs: dict[str, str]
    positional: tuple[str, ...]
    specs: dict[str, ArgSpec]
    required: tuple[str, ...]


_grammars: dict[type[Op], _Grammar] = {}


def _grammar(cls: type[Op]) -> _Grammar:
    g = _grammars.get(cls)
    if g is not None:
        return g
    flags: dict[str, tuple[str, Any]] = {}
    shorts: list[tuple[str, str]] = []
    longs: dict[str, str] = {}
    positional: list[str] = []
    specs: dict[str, ArgSpec] = {}
    required: list[str] = []
    for f, spec in arg_fields(cls):
        specs[f.name] = spec
        for word, value in spec.flags:
            flags[word] = (f.name, value)
        if spec.short:
            shorts.append((spec.short, f.name))
        longs[f.name] = f.name
        for alias in spec.aliases:
            longs[alias] = f.name
        if spec.positional:
            positional.append(f.name)
        if f.default is MISSING and f.default_factory is MISSING:
            required.append(f.name)
    shorts.sort(key=lambda item: -len(item[0]))
    g = _Grammar(flags, tuple(shorts), dict(shorts), longs, tuple(positional), specs, tuple(required))
    _grammars[cls] = g
    return g


def auto_name(kind: str, n: int) -> str:
    """The name an unnamed layer gets: ``relu_3``; the first input is ``input``."""
    if kind == "input":
        return "input" if n == 1 else f"input_{n}"
    return f"{kind}_{n}"


def parse(text: str, *, source: str | None = None) -> Graph:
    """Parse notation text into a :class:`Graph`.

    >>> g = parse("3x227x227 | conv1: conv 96 k11 s4 | relu")
    >>> [(n.name, n.kind) for n in g]
    [('input', 'input'), ('conv1', 'conv'), ('relu_1', 'relu')]
    """
    if not isinstance(text, str):
        raise NotationError(f"notation must be text, got {type(text).__name__}")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise NotationError("the text contains NUL bytes: is this a binary file?", line=line,
                            source=source)
    return _Parser(source).run(text)


class _Parser:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.model: str | None = None
        self.convention: str | None = None
        #: layers written alike (a long chain repeats a few lines) share one frozen op
        self.ops: dict[tuple[type[Op], tuple[tuple[str, int], ...]], tuple[Op, list[tuple[str, int]]]] = {}

    def error(self, message: str, seg: _Segment, offset: int = 0) -> NotationError:
        return NotationError(message, line=seg.line, column=seg.column + offset, text=seg.full,
                             source=self.source)

    def run(self, text: str) -> Graph:
        # A long network repeats a few lines: each distinct layer text is read (and its op made)
        # once. What the second pass needs of each layer is kept small, its reading's number and
        # its line, as a 100,000-layer network's per-layer tuples outgrew the caches; a layer's
        # text is kept only where a message or its inputs may need it.
        explicit: set[str] = set()
        numbers: dict[str, int] = {}  # layer text -> its reading's number in ``read``
        read: list[_Reading] = []
        readings: list[int] = []  # each layer's reading
        lines: list[int] = []  # each layer's line
        kept: dict[int, tuple[str, int, int, str]] = {}  # layer -> its piece (_Segment's fields)
        for piece in _segments(text):
            number = numbers.get(piece[0])
            if number is None:
                reading = self._read(_Segment(*piece))
                if reading is None:
                    continue  # a directive
                number = numbers[piece[0]] = len(read)
                read.append(reading)
                if reading[0] is not None:
                    explicit.add(reading[0])
            name, cls, inputs, _, _, positional = read[number]
            if name is not None or inputs is not None or positional or cls.arity[1] == 0 or not readings:
                kept[len(readings)] = piece
            readings.append(number)
            lines.append(piece[1])
        if not readings:
            raise NotationError("no layers: write at least an input, e.g. 'input 3x224x224'",
                                source=self.source)
        counters: dict[str, int] = {}
        nodes: list[Node] = []
        named: set[str] = set()  # the explicit names given so far (an automatic name avoids them all)
        previous: str | None = None
        for k, number in enumerate(readings):
            name, cls, inputs, train_only, op, positional = read[number]
            if name is None:
                name = self._auto(cls.kind, counters, explicit)
            elif name in named:
                raise self.error(f"duplicate layer name {name!r}", _Segment(*kept[k]))
            else:
                named.add(name)
            if inputs is None and not positional and previous is not None and cls.arity[1] != 0:
                node_inputs: tuple[str, ...] = (previous,)  # what _inputs gives a layer fed by the line before
            else:
                node_inputs = self._inputs(cls, name, inputs, positional, previous, _Segment(*kept[k]))
            nodes.append(Node(name, op, node_inputs, train_only, lines[k]))
            previous = name
        try:
            convention = self.convention
            return Graph(tuple(nodes), self.model, convention)
        except GraphError as exc:
            if self.source:
                raise GraphError(f"{self.source}: {exc}") from None
            raise

    def _read(self, seg: _Segment) -> _Reading | None:
        """How a layer's text reads, its op made (None for a directive)."""
        item = self._split(seg)
        if item is None:
            return None
        name, cls, tokens, inputs = item
        train_only = TRAIN_ONLY in seg.text and any(t == TRAIN_ONLY for t, _ in tokens)
        if train_only:
            tokens = [(t, c) for t, c in tokens if t != TRAIN_ONLY]
        key = (cls, tuple(tokens))
        made = self.ops.get(key)
        if made is None:
            made = self.ops[key] = self._op(cls, tokens, seg)
        op, positional = made
        return name, cls, inputs, train_only, op, positional

    def _auto(self, kind: str, counters: dict[str, int], explicit: set[str]) -> str:
        """The next automatic name of ``kind`` that no layer is given explicitly (automatic
        names never repeat: each kind counts up)."""
        n = counters.get(kind, 0) + 1
        name = auto_name(kind, n)
        while name in explicit:
            n += 1
            name = auto_name(kind, n)
        counters[kind] = n
        return name

    def _split(
        self, seg: _Segment
    ) -> tuple[str | None, type[Op], list[tuple[str, int]], list[tuple[str, int]] | None] | None:
        """Name, kind, argument tokens and explicit inputs of one layer (None for a directive)."""
        body = seg.text
        inputs: list[tuple[str, int]] | None = None
        arrow = body.find("<-")
        if arrow >= 0:
            inputs = [(m.group(), arrow + 2 + m.start()) for m in re.finditer(r"[^\s,]+", body[arrow + 2:])]
            if not inputs:
                raise self.error("'<-' must be followed by input names, e.g. '<- a, b'", seg, arrow)
            body = body[:arrow]
        tokens = [(m.group(), m.start()) for m in _TOKEN_RE.finditer(body)]
        if not tokens:
            raise self.error("'<-' needs a layer before it", seg, arrow)
        name: str | None = None
        first, col = tokens[0]
        if ":" in first:
            name, _, rest = first.partition(":")
            if not NAME_RE.fullmatch(name):
                raise self.error(
                    f"invalid layer name {name!r}: start with a letter or '_', then use "
                    "letters, digits and . - / [ ] @ +", seg, col)
            tokens = tokens[1:] if not rest else [(rest, col + len(name) + 1), *tokens[1:]]
            if not tokens:
                raise self.error(f"layer {name!r} has no kind after the colon", seg, col + len(first))
        elif len(tokens) > 1 and tokens[1][0].startswith(":"):
            name = first
            rest = tokens[1][0][1:]
            tokens = ([(rest, tokens[1][1] + 1)] if rest else []) + tokens[2:]
            if not NAME_RE.fullmatch(name):
                raise self.error(f"invalid layer name {name!r}", seg, col)
            if not tokens:
                raise self.error(f"layer {name!r} has no kind after the colon", seg, col)
        kind, kcol = tokens[0]
        lowered = kind.lower()
        if name is None and lowered in _DIRECTIVES and inputs is None:
            self._directive(lowered, tokens, seg)
            return None
        if _SHAPE_RE.fullmatch(kind):
            # A bare shape is an input layer: '3x224x224 | conv ...' (a kind starts with a letter)
            return name, Input, [(t, c) for t, c in tokens], inputs
        cls = REGISTRY.get(lowered)
        if cls is None:
            raise self.error(
                f"unknown kind {kind!r}{did_you_mean(lowered, list(REGISTRY) + list(_DIRECTIVES))}",
                seg, kcol)
        return name, cls, tokens[1:], inputs

    def _directive(self, word: str, tokens: list[tuple[str, int]], seg: _Segment) -> None:
        if len(tokens) != 2:
            raise self.error(f"'{word}' takes one word, e.g. '{word} "
                             f"{'cuda-convnet' if word == 'convention' else 'alexnet'}'", seg, tokens[0][1])
        value, col = tokens[1]
        if word == "convention":
            try:
                self.convention = get_convention(value).name
            except SpecError as exc:
                raise self.error(str(exc), seg, col) from None
        else:
            self.model = value

    def _op(self, cls: type[Op], tokens: list[tuple[str, int]], seg: _Segment) -> tuple[Op, list[tuple[str, int]]]:
        g = _grammar(cls)
        values: dict[str, Any] = {}
        where: dict[str, int] = {}
        names: list[tuple[str, int]] = []
        pending = list(g.positional)
        takes_names = cls.arity[1] is None or cls.arity[1] > 1
        variadic: set[str] = set()  # positional lists being filled token by token
        for text, col in tokens:
            field, value, plain = self._token(cls, g, text, col, seg, pending, takes_names, names)
            if field is None:
                continue
            if field in values:
                if plain and field in variadic:
                    values[field] = values[field] + value
                    continue
                raise self.error(f"{cls.kind}: '{field}' is given twice", seg, col)
            if plain and g.specs[field].kind == "ints":
                variadic.add(field)
            values[field] = value
            where[field] = col
        for field in g.required:
            if field not in values:
                raise self.error(f"{cls.kind} needs {_example(cls, field, g.specs[field])}", seg,
                                 len(seg.text.rstrip()))
        try:
            return cls(**values), names
        except SpecError as exc:
            message = str(exc)
            bad = next((f for f in where if f"'{f}'" in message), None)
            raise self.error(message, seg, where[bad] if bad else 0) from None
        except NetarithError as exc:
            raise self.error(str(exc), seg, 0) from None

    def _token(self, cls: type[Op], g: _Grammar, text: str, col: int, seg: _Segment,
               pending: list[str], takes_names: bool,
               names: list[tuple[str, int]]) -> tuple[str | None, Any, bool]:
        """Read one token: (field, value, came as a plain positional value)."""
        lowered = text.lower()
        try:
            if "=" in text:
                key, _, raw = text.partition("=")
                field = g.longs.get(key.lower())
                if field is None:
                    raise self.error(
                        f"{cls.kind} has no argument {key!r}{did_you_mean(key.lower(), g.longs)}"
                        f"{_known(g)}", seg, col)
                if not raw:
                    raise self.error(f"'{key}=' needs a value", seg, col + len(text))
                return field, parse_value(g.specs[field], raw), False
            if lowered in g.flags:
                field, value = g.flags[lowered]
                return field, value, False
            if pending and g.specs[pending[0]].kind == "shape" and _SHAPE_RE.fullmatch(text):
                return pending.pop(0), Shape.parse(text), False
            if _SHORT_VALUE_RE.match(text) or text.startswith("."):
                if not pending:
                    raise self.error(f"{cls.kind} takes no more plain numbers here: {text!r}{_known(g)}",
                                     seg, col)
                field = pending[0]
                if g.specs[field].kind != "ints":
                    pending.pop(0)
                return field, parse_value(g.specs[field], text), True
            short = _SHORT_RE.match(lowered)  # 'k3', 'p0+1', 'op1': letters, then a number
            if short is not None and short.group(1) in g.short_fields:
                prefix = short.group(1)
                field = g.short_fields[prefix]
                return field, parse_value(g.specs[field], text[len(prefix):]), False
            if takes_names and NAME_RE.fullmatch(text):
                names.append((text, col))
                return None, None, False
        except SpecError as exc:
            raise self.error(f"{cls.kind}: {exc}", seg, col) from None
        words = list(g.flags) + [p for p, _ in g.shorts] + list(g.longs)
        raise self.error(f"{cls.kind} does not understand {text!r}{did_you_mean(lowered, words)}{_known(g)}",
                         seg, col)

    def _inputs(self, cls: type[Op], name: str, arrow: list[tuple[str, int]] | None,
                positional: list[tuple[str, int]], previous: str | None,
                seg: _Segment) -> tuple[str, ...]:
        low, high = cls.arity
        if arrow is not None and positional:
            raise self.error(f"{name}: name the inputs either after the kind or after '<-', not both",
                             seg, positional[0][1])
        given = [t for t, _ in (arrow if arrow is not None else positional)]
        if high == 0:
            if given:
                raise self.error(f"{cls.kind} takes no inputs", seg, 0)
            return ()
        if arrow is None and len(given) < max(low, 1):
            if previous is None:
                raise self.error(
                    f"{name} has no input: start with an input line (e.g. 'input 3x224x224') "
                    "or name its inputs with '<-'", seg, 0)
            given = [previous, *given]
        return tuple(given)


def _example(cls: type[Op], field: str, spec: ArgSpec) -> str:
    samples = {"sizes": "3", "int": "64", "shape": "3x224x224", "padding": "1", "ratios": "2",
               "ints": "0 2 3 1"}
    sample = samples.get(spec.kind, "...")
    if spec.short:
        return f"a {field} (e.g. '{cls.kind} ... {spec.short}{sample}')"
    if spec.positional:
        return f"a {field} (e.g. '{cls.kind} {sample}')"
    return f"a {field} (e.g. '{field}={sample}')"


def _known(g: _Grammar) -> str:
    parts = [f"{p}N" for p, _ in g.shorts] + list(g.flags)
    return f" (it takes: {', '.join(parts)})" if parts else ""


def _segments(text: str) -> Iterator[tuple[str, int, int, str]]:
    """Split text into layer segments on newlines and '|', dropping comments and blanks: the
    fields of a :class:`_Segment` (text, line, column, full line)."""
    for number, line in enumerate(text.splitlines(), start=1):
        hash_at = line.find("#")
        content = line if hash_at < 0 else line[:hash_at]
        start = 0
        # A line of one layer is its own piece: no copy of each line of a long network.
        for piece in content.split("|") if "|" in content else (content,):
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                yield stripped, number, start + lead + 1, line
            start += len(piece) + 1

