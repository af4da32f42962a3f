"""The text notation: :func:`parse` reads it, :func:`to_notation` writes it."""

from __future__ import annotations

from .parser import auto_name, parse
from .printer import format_op, to_notation

__all__ = ["auto_name", "format_op", "parse", "to_notation"]
