"""Renderers: each turns a Report into text, and recomputes nothing."""

from __future__ import annotations

from collections.abc import Callable

from ..analyze import Report

__all__ = ["FORMATS", "render"]


def _table(r: Report) -> str:
    from .table import render as f

    return f(r)


def _json(r: Report) -> str:
    from .json import render as f

    return f(r)


def _csv(r: Report) -> str:
    from .csv import render as f

    return f(r)


def _markdown(r: Report) -> str:
    from .markdown import render as f

    return f(r)


FORMATS: dict[str, Callable[[Report], str]] = {
    "table": _table,
    "json": _json,
    "csv": _csv,
    "markdown": _markdown,
}


def render(report: Report, fmt: str = "table") -> str:
    """Render a report as ``table``, ``json``, ``csv`` or ``markdown``."""
    from ..errors import SpecError, did_you_mean

    try:
        return FORMATS[fmt](report)
    except KeyError:
        raise SpecError(f"unknown format {fmt!r}{did_you_mean(fmt, FORMATS)} (one of: {', '.join(FORMATS)})") from None
