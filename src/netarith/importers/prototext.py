"""A small reader for the protocol buffers text format (Caffe's ``.prototxt``), no schema needed.

It reads the syntax only: ``name: value`` fields, ``name { ... }`` (or ``< ... >``)
messages, ``[a, b]`` lists, ``#`` comments, quoted strings with escapes. What a field
means, and whether it may repeat, is the importer's business; every field and value
keeps its line and column so that the importer's messages can point at it.

>>> msg = parse('name: "net"\\nlayer { name: "c" convolution_param { kernel_size: 3 pad: [1, 2] } }')
>>> msg.text("name")
'net'
>>> conv = msg.messages("layer")[0].message("convolution_param")
>>> conv.integer("kernel_size"), conv.integers("pad")
(3, [1, 2])
"""

from __future__ import annotations

import math
import re

from .._values import field, frozen, mutable
from ..errors import SourceError
from ._common import Place, located

__all__ = ["Field", "Message", "Scalar", "parse"]

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+|\n)
  | (?P<comment>\#[^\n]*)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)(?![\w.]))
  | (?P<ident>-?[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<open_string>["'])
  | (?P<symbol>[{}<>\[\]:,;])
    """,
    re.VERBOSE,
)

_CLOSE = {"{": "}", "<": ">"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "?": "?"}
_TRUE = {"true", "True", "t", "1"}
_FALSE = {"false", "False", "f", "0"}
MAX_DEPTH = 100


@frozen
class Scalar:
    """A value as written: ``kind`` is "number", "string" or "ident" (an enum name, true...)."""

    kind: str
    text: str
    place: Place


@frozen
class Field:
    name: str
    value: Scalar | Message
    place: Place


@frozen
class Message:
    """A message: its fields in file order (names repeat for repeated fields)."""

    fields: tuple[Field, ...]
    place: Place
    _by_name: dict[str, list[Field]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._by_name.setdefault(f.name, []).append(f)

    # -- lookups ------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self._by_name

    def all(self, name: str) -> list[Field]:
        return self._by_name.get(name, [])

    def names(self) -> list[str]:
        return list(self._by_name)

    def last(self, name: str) -> Field | None:
        """A singular field: protobuf keeps the last value written."""
        found = self._by_name.get(name)
        return found[-1] if found else None

    def error(self, where: Field | Scalar | Message | None, message: str) -> SourceError:
        place = where.place if where is not None else self.place
        return SourceError(located(place, message))

    # -- typed access: every bad value is a located error ---------------------------------
    def messages(self, name: str) -> list[Message]:
        out = []
        for f in self.all(name):
            if not isinstance(f.value, Message):
                raise self.error(f, f"'{name}' must be a message ({name} {{ ... }}), not a value")
            out.append(f.value)
        return out

    def message(self, name: str) -> Message | None:
        found = self.messages(name)
        return found[-1] if found else None

    def scalars(self, name: str) -> list[Scalar]:
        out = []
        for f in self.all(name):
            if isinstance(f.value, Message):
                raise self.error(f, f"'{name}' must be a value ({name}: ...), not a message")
            out.append(f.value)
        return out

    def integers(self, name: str) -> list[int]:
        return [_to_int(s, name) for s in self.scalars(name)]

    def integer(self, name: str, default: int | None = None) -> int | None:
        values = self.scalars(name)
        return _to_int(values[-1], name) if values else default

    def number(self, name: str, default: float | None = None) -> float | None:
        values = self.scalars(name)
        return _to_float(values[-1], name) if values else default

    def numbers(self, name: str) -> list[float]:
        return [_to_float(s, name) for s in self.scalars(name)]

    def text(self, name: str, default: str | None = None) -> str | None:
        values = self.scalars(name)
        if not values:
            return default
        s = values[-1]
        if s.kind != "string":
            raise SourceError(located(s.place, f"'{name}' must be a quoted string, got {s.text}"))
        return s.text

    def texts(self, name: str) -> list[str]:
        out = []
        for s in self.scalars(name):
            if s.kind != "string":
                raise SourceError(located(s.place, f"'{name}' must be a quoted string, got {s.text}"))
            out.append(s.text)
        return out

    def flag(self, name: str, default: bool) -> bool:
        values = self.scalars(name)
        if not values:
            return default
        s = values[-1]
        if s.text in _TRUE:
            return True
        if s.text in _FALSE:
            return False
        raise SourceError(located(s.place, f"'{name}' must be true or false, got {s.text}"))

    def enum(self, name: str, names: tuple[str, ...], default: str) -> str:
        """An enum field, written by name (``pool: MAX``) or by number (``pool: 0``)."""
        values = self.scalars(name)
        if not values:
            return default
        s = values[-1]
        if s.kind == "number" and s.text.isdigit() and int(s.text) < len(names):
            return names[int(s.text)]
        if s.kind == "ident" and s.text in names:
            return s.text
        raise SourceError(located(
            s.place, f"'{name}' must be one of {', '.join(names)}, got {s.text}"
            + _suggest(s.text, names)))


def _suggest(word: str, names: tuple[str, ...]) -> str:
    from ..errors import did_you_mean

    return did_you_mean(word.upper(), names)


def _to_int(s: Scalar, name: str) -> int:
    text = s.text
    try:
        if s.kind == "number" and re.fullmatch(r"[-+]?\d+", text):
            if len(text) > 30:
                raise ValueError
            return int(text)
        if s.kind == "number" and re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", text):
            return int(text, 16)
    except ValueError:
        pass
    raise SourceError(located(s.place, f"'{name}' must be an integer, got {text}"))


def _to_float(s: Scalar, name: str) -> float:
    text = s.text.rstrip("fF") if s.kind == "number" and "x" not in s.text.lower() else s.text
    if s.kind == "ident" and text.lstrip("-").lower() in ("inf", "infinity", "nan"):
        return float(text)
    if s.kind == "number":
        try:
            value = float(int(text, 16)) if "x" in text.lower() else float(text)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    raise SourceError(located(s.place, f"'{name}' must be a number, got {s.text}"))


# -- the parser ---------------------------------------------------------------------------


@mutable
class _Token:
    kind: str
    text: str
    place: Place


def _tokens(text: str, source: str) -> list[_Token]:
    lines = text.split("\n")
    out: list[_Token] = []
    pos = 0
    line = 1
    line_start = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        place = Place(source, line, pos - line_start + 1, lines[line - 1])
        if m is None:
            word = re.match(r"[-+.]?\d[\w.+-]*", text[pos:])
            if word is not None:
                raise SourceError(located(place, f"not a number: {word.group()!r}"))
            char = text[pos]
            shown = repr(char) if not char.isprintable() else f"'{char}'"
            raise SourceError(located(place, f"unexpected character {shown}"))
        kind = m.lastgroup or ""
        if kind == "space" and m.group() == "\n":
            line += 1
            line_start = m.end()
        elif kind == "open_string":
            raise SourceError(located(place, "this string is not closed on its line"))
        elif kind == "string":
            out.append(_Token(kind, _unescape(m.group()[1:-1], place), place))
        elif kind not in ("space", "comment"):
            out.append(_Token(kind, m.group(), place))
        pos = m.end()
    end_line = lines[-1] if lines else ""
    out.append(_Token("end", "", Place(source, line, pos - line_start + 1, end_line)))
    return out


def _unescape(body: str, place: Place) -> str:
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[i + 1 :])
            assert digits is not None
            out.append(chr(int(digits.group(), 8)))
            i += 1 + len(digits.group())
        elif nxt == "x" and re.match(r"[0-9a-fA-F]", body[i + 2 : i + 3]):
            digits = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
            assert digits is not None
            out.append(chr(int(digits.group(), 16)))
            i += 2 + len(digits.group())
        else:
            raise SourceError(located(place, f"unknown escape '\\{nxt}' in a string"))
    return "".join(out)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, tok: _Token, message: str) -> SourceError:
        return SourceError(located(tok.place, message))

    def message(self, opened: _Token | None, depth: int) -> Message:
        if depth > MAX_DEPTH:
            assert opened is not None
            raise self.fail(opened, f"messages nested more than {MAX_DEPTH} deep")
        close = _CLOSE[opened.text] if opened is not None else ""
        fields: list[Field] = []
        while True:
            tok = self.peek()
            if tok.kind == "end":
                if opened is None:
                    break
                raise self.fail(opened, f"'{opened.text}' is never closed (the file ends first)")
            if tok.kind == "symbol" and tok.text == close:
                self.take()
                break
            if tok.kind == "symbol" and tok.text in "}>":
                raise self.fail(tok, f"unexpected '{tok.text}': no message is open here"
                                if opened is None else f"expected '{close}' to close the message "
                                f"opened at line {opened.place.line}, got '{tok.text}'")
            fields.extend(self.field(depth))
            sep = self.peek()
            if sep.kind == "symbol" and sep.text in ",;":
                self.take()
        place = opened.place if opened is not None else self.tokens[0].place
        return Message(tuple(fields), place)

    def field(self, depth: int) -> list[Field]:
        name = self.take()
        if name.kind != "ident" or name.text.startswith("-"):
            shown = name.text or "the end of the file"
            raise self.fail(name, f"expected a field name, got {shown!r}")
        tok = self.peek()
        colon = tok.kind == "symbol" and tok.text == ":"
        if colon:
            self.take()
            tok = self.peek()
        if tok.kind == "symbol" and tok.text in "{<":
            self.take()
            body = self.message(tok, depth + 1)  # placed at its name, for messages about it
            return [Field(name.text, Message(body.fields, name.place), name.place)]
        if not colon:
            raise self.fail(tok, f"expected ':' or '{{' after '{name.text}', got "
                            f"{tok.text or 'the end of the file'!r}")
        if tok.kind == "symbol" and tok.text == "[":
            return [Field(name.text, v, v.place) for v in self.items(depth)]
        return [Field(name.text, self.scalar(), name.place)]

    def items(self, depth: int) -> list[Scalar | Message]:
        opened = self.take()
        items: list[Scalar | Message] = []
        if self.peek().kind == "symbol" and self.peek().text == "]":
            self.take()
            return items
        while True:
            tok = self.peek()
            if tok.kind == "symbol" and tok.text in "{<":
                self.take()
                items.append(self.message(tok, depth + 1))
            else:
                items.append(self.scalar())
            sep = self.take()
            if sep.kind == "symbol" and sep.text == "]":
                return items
            if not (sep.kind == "symbol" and sep.text == ","):
                if sep.kind == "end":
                    raise self.fail(opened, "'[' is never closed (the file ends first)")
                raise self.fail(sep, f"expected ',' or ']' in the list, got {sep.text!r}")

    def scalar(self) -> Scalar:
        tok = self.take()
        if tok.kind in ("number", "ident"):
            return Scalar(tok.kind, tok.text, tok.place)
        if tok.kind == "string":
            text = tok.text
            while self.peek().kind == "string":  # "a" "b" is "ab"
                text += self.take().text
            return Scalar("string", text, tok.place)
        raise self.fail(tok, f"expected a value, got {tok.text or 'the end of the file'!r}")


def parse(text: str, *, source: str = "<prototxt>") -> Message:
    """Parse protobuf text format into a :class:`Message` (syntax only)."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SourceError(f"{source}:{line}: the text contains NUL bytes: is this a binary file?")
    parser = _Parser(_tokens(text, source))
    return parser.message(None, 0)
