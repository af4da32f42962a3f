"""A small SVG writer: elements as strings, every text and attribute escaped.

Nothing here knows about networks; the renderers in this package call it. All
user text (layer names, messages) goes through :func:`esc`, so a name such as
``<script>`` is drawn as text and never becomes markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from .._values import field, mutable

__all__ = ["FONT", "Canvas", "esc", "fmt", "text_width"]

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

#: Average glyph width as a fraction of the font size (a sans font; for layout only).
_GLYPH = 0.6


def esc(value: object) -> str:
    """Escape text for XML content and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


def fmt(value: float) -> str:
    """A coordinate with at most one decimal: short, stable output for golden files."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float) -> float:
    """Estimated width of ``text`` at ``size`` px (no font metrics without a browser)."""
    return len(text) * size * _GLYPH


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = fmt(value) if isinstance(value, float) else str(value)
        parts.append(f' {name}="{esc(shown)}"')
    return "".join(parts)


@mutable(slots=False)
class Canvas:
    """Collects SVG elements; :meth:`svg` wraps them with a viewBox that fits."""

    parts: list[str] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    def grow(self, x: float, y: float) -> None:
        self.width = max(self.width, x)
        self.height = max(self.height, y)

    def raw(self, element: str) -> None:
        self.parts.append(element)

    def open(self, tag: str, **attrs: object) -> None:
        self.parts.append(f"<{tag}{_attrs(attrs)}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def title(self, text: str) -> None:
        """A tooltip for the enclosing group (shown on hover by browsers)."""
        self.parts.append(f"<title>{esc(text)}</title>")

    def rect(self, x: float, y: float, w: float, h: float, **attrs: object) -> None:
        self.grow(x + w, y + h)
        self.parts.append(f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}"{_attrs(attrs)}/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        self.grow(max(x1, x2), max(y1, y2))
        self.parts.append(
            f'<line x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}"{_attrs(attrs)}/>'
        )

    def polygon(self, points: Iterable[tuple[float, float]], **attrs: object) -> None:
        pts = list(points)
        for x, y in pts:
            self.grow(x, y)
        text = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in pts)
        self.parts.append(f'<polygon points="{text}"{_attrs(attrs)}/>')

    def path(self, d: str, **attrs: object) -> None:
        self.parts.append(f'<path d="{esc(d)}"{_attrs(attrs)}/>')

    def text(self, x: float, y: float, content: str, size: float = 11, anchor: str = "middle",
             **attrs: object) -> None:
        width = text_width(content, size)
        right = x + (width if anchor == "start" else width / 2 if anchor == "middle" else 0)
        self.grow(right, y + size * 0.3)
        self.parts.append(
            f'<text x="{fmt(x)}" y="{fmt(y)}" font-size="{fmt(size)}" text-anchor="{anchor}"'
            f"{_attrs(attrs)}>{esc(content)}</text>"
        )

    def svg(self, *, title: str, margin: float = 16, style: str = "") -> str:
        width = self.width + margin
        height = self.height + margin
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{fmt(width)}" height="{fmt(height)}" '
            f'viewBox="0 0 {fmt(width)} {fmt(height)}" font-family="{esc(FONT)}" role="img">'
        )
        parts = [head, f"<title>{esc(title)}</title>"]
        if style:
            parts.append(f"<style>{style}</style>")
        parts.append(f'<rect x="0" y="0" width="{fmt(width)}" height="{fmt(height)}" fill="#ffffff"/>')
        return "\n".join([*parts, *self.parts, "</svg>"]) + "\n"
