"""The exceptions netarith raises: one root, a few children.

Every error a user can cause is a :class:`NetarithError`; anything else escaping
the library is a bug. The tree::

    ValueError
     └── NetarithError          the root: catch this one
          ├── NotationError     text that does not parse (line, column, caret, suggestion)
          ├── SpecError         a layer's arguments break a rule ('kernel' must be > 0: 0)
          ├── GraphError        unknown or duplicate names, cycles, missing input
          ├── ShapeError        a layer cannot compute on what it receives
          ├── SourceError       a file, zoo name or model that cannot be found or read
          └── MissingExtraError an optional framework is not installed (names the extra)

Messages say what was given, what was needed, and, where one exists, what to
write instead.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "GraphError",
    "MissingExtraError",
    "NetarithError",
    "NotationError",
    "ShapeError",
    "SourceError",
    "SpecError",
    "did_you_mean",
]


class NetarithError(ValueError):
    """The root of every error netarith raises on bad input."""


class NotationError(NetarithError):
    """Text that is not valid notation; knows its line and column (1-based)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        text: str | None = None,
        source: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.text = text
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:"
        if self.line is not None:
            where += f"{self.line}:"
            if self.column is not None:
                where += f"{self.column}:"
        head = f"{where} {self.message}" if where else self.message
        if self.text is None or self.column is None:
            return head
        shown = self.text.rstrip("\n")
        if len(shown) > 200:  # a 10 MB line must not become a 10 MB message
            start = max(0, self.column - 100)
            shown = shown[start : start + 200]
            caret_at = self.column - start
        else:
            caret_at = self.column
        return f"{head}\n    {shown}\n    {' ' * (caret_at - 1)}^"


class SpecError(NetarithError):
    """A layer's arguments break a rule of its kind."""


class _Located(NetarithError):
    """An error about one layer: which (``layer``) and where it was written (``line``), if known."""

    def __init__(self, message: str, *, layer: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.layer = layer
        self.line = line


class GraphError(_Located):
    """The layers do not form a valid graph."""


class ShapeError(_Located):
    """A layer cannot compute on the shape it receives."""


class SourceError(NetarithError):
    """A source (file, zoo name, model file, factory) cannot be found or read."""


class MissingExtraError(NetarithError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs {package}, which is not installed; "
            f"install it with: pip install 'netarith[{extra}]'"
        )


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest candidate, or ""."""
    import difflib  # here, not above: only a message needs it (start-up time)

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
