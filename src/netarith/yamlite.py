"""A small, safe reader for the YAML that claims files use (standard library only).

Supported: block mappings (``key: value``), block sequences (``- item``, items may be
mappings), nested by indentation; plain, single- and double-quoted scalars; ``#``
comments; documents separated by ``---``. Flow collections (``[a, b]``) of scalars
are read too. Anchors, tags and multi-line scalars are not: they are refused with a
located :class:`NotationError` rather than misread. Scalars stay strings, except that
``true``/``false``/``null`` and plain integers become Python values.
"""

from __future__ import annotations

import re

from ._values import frozen
from .errors import NotationError

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["load", "load_documents"]

_INT = re.compile(r"[-+]?\d+")
#: nesting deeper than this is refused (a file of ever deeper lines must not exhaust the stack)
MAX_DEPTH = 64
#: plain integers longer than this are refused (Python will not convert them, and no figure needs them)
MAX_DIGITS = 100
_KEY = re.compile(r"([A-Za-z_][\w.\-]*)\s*:(?:\s+|$)")


@frozen
class _Line:
    number: int
    indent: int
    text: str  # without indentation and comment
    raw: str


def load(text: str, *, source: str | None = None) -> Any:
    """The single document in ``text``."""
    docs = load_documents(text, source=source)
    if len(docs) != 1:
        raise NotationError(f"expected one document, found {len(docs)}", source=source)
    return docs[0]


def load_documents(text: str, *, source: str | None = None) -> list[Any]:
    """Every ``---``-separated document in ``text``."""
    docs: list[list[_Line]] = [[]]
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip() == "---":
            docs.append([])
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise NotationError("tabs are not allowed for indentation", line=number, column=1, text=raw,
                                source=source)
        content = _strip_comment(raw)
        if content.strip():
            indent = len(content) - len(content.lstrip(" "))
            docs[-1].append(_Line(number, indent, content.strip(), raw))
    out = []
    for lines in docs:
        if not lines:
            continue
        reader = _Reader(lines, source)
        value = reader.block(lines[0].indent)
        if reader.pos < len(lines):
            extra = lines[reader.pos]
            raise reader.error("unexpected indentation", extra)
        out.append(value)
    return out


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                continue
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


class _Reader:
    def __init__(self, lines: list[_Line], source: str | None) -> None:
        self.lines = lines
        self.pos = 0
        self.source = source
        self.depth = 0

    def error(self, message: str, line: _Line, column: int | None = None) -> NotationError:
        return NotationError(message, line=line.number, column=column or line.indent + 1, text=line.raw,
                             source=self.source)

    def block(self, indent: int) -> Any:
        line = self.lines[self.pos]
        if self.depth >= MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", line)
        self.depth += 1
        try:
            if line.text.startswith("- ") or line.text == "-":
                return self.sequence(indent)
            return self.mapping(indent)
        finally:
            self.depth -= 1

    def mapping(self, indent: int, first: str | None = None, first_line: _Line | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        pending = [(first, first_line)] if first is not None and first_line is not None else []
        while pending or self.pos < len(self.lines):
            if pending:
                text, line = pending.pop()
                assert text is not None and line is not None
            else:
                line = self.lines[self.pos]
                if line.indent < indent:
                    break
                if line.indent > indent:
                    raise self.error("unexpected indentation", line)
                if line.text.startswith("-"):
                    break
                text = line.text
                self.pos += 1
            match = _KEY.match(text)
            if not match:
                raise self.error(f"expected 'key: value', got {text!r}", line)
            key = match.group(1)
            if key in result:
                raise self.error(f"duplicate key {key!r}", line)
            rest = text[match.end():].strip()
            if rest:
                result[key] = self.scalar(rest, line)
            elif self.pos < len(self.lines) and self.lines[self.pos].indent > indent:
                result[key] = self.block(self.lines[self.pos].indent)
            elif self.pos < len(self.lines) and self.lines[self.pos].indent == indent and \
                    self.lines[self.pos].text.startswith("-"):
                result[key] = self.sequence(indent)
            else:
                result[key] = None
        return result

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent != indent or not (line.text.startswith("- ") or line.text == "-"):
                if line.indent > indent:
                    raise self.error("unexpected indentation", line)
                break
            self.pos += 1
            rest = line.text[1:].strip()
            inner = indent + 2 + (len(line.text[1:]) - len(line.text[1:].lstrip()) - 1)
            if not rest:
                if self.pos < len(self.lines) and self.lines[self.pos].indent > indent:
                    items.append(self.block(self.lines[self.pos].indent))
                else:
                    items.append(None)
            elif _KEY.match(rest):
                items.append(self.mapping(inner, rest, line))
            else:
                items.append(self.scalar(rest, line))
        return items

    def scalar(self, text: str, line: _Line) -> Any:
        column = line.raw.find(text) + 1
        if not text:
            raise self.error("an empty value", line, column)
        if text[0] in "&*!|>":
            raise self.error(f"unsupported YAML feature {text[0]!r} (anchors, tags, block scalars)", line, column)
        if text[0] == '"':
            return self._double(text, line, column)
        if text[0] == "'":
            if len(text) < 2 or not text.endswith("'"):
                raise self.error("unterminated quoted string", line, column)
            return text[1:-1].replace("''", "'")
        if text[0] in "[{":
            return self._flow(text, line, column)
        lowered = text.lower()
        if lowered in ("true", "yes"):
            return True
        if lowered in ("false", "no"):
            return False
        if lowered in ("null", "~"):
            return None
        if _INT.fullmatch(text):
            if len(text.lstrip("+-")) > MAX_DIGITS:
                raise self.error(f"an integer of {len(text.lstrip('+-')):,} digits; at most {MAX_DIGITS}",
                                 line, column)
            return int(text)
        return text

    def _double(self, text: str, line: _Line, column: int) -> str:
        out = []
        i = 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
                continue
            if ch == '"':
                if text[i + 1:].strip():
                    raise self.error("text after a quoted string", line, column + i + 1)
                return "".join(out)
            out.append(ch)
            i += 1
        raise self.error("unterminated quoted string", line, column)

    def _flow(self, text: str, line: _Line, column: int) -> Any:
        if text[0] != "[" or not text.endswith("]"):
            raise self.error("only flow lists of scalars are supported: [a, b]", line, column)
        inner = text[1:-1].strip()
        if not inner:
            return []
        items = []
        for part in inner.split(","):
            if not part.strip():
                raise self.error("an empty item in a flow list: [a, b]", line, column)
            items.append(self.scalar(part.strip(), line))
        return items
