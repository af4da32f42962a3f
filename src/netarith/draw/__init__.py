"""Pictures of a network: paper-style volumes, the graph, per-layer charts (SVG).

Renderers read a :class:`~netarith.analyze.Report` and recompute nothing. The
SVG is plain text (text stays text, every name is escaped) and needs only the
standard library.

>>> from netarith import analyze
>>> svg = draw(analyze("3x32x32 | c1: conv 8 k3 | relu | maxpool 2 | fc: linear 10"))
>>> svg.startswith("<svg") and "c1" in svg
True
"""

from __future__ import annotations

from ..errors import SpecError, did_you_mean

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from ..analyze import Report
    from ..sources import Source

__all__ = ["STYLES", "chart", "draw"]

STYLES = ("volumes", "graph")


def _report(source: Report | Source) -> Report:
    from ..analyze import Report, analyze

    return source if isinstance(source, Report) else analyze(source)


def draw(source: Report | Source, style: str = "volumes", *, collapse: bool = True) -> str:
    """The network as SVG: ``volumes`` (3D boxes, AlexNet's Figure 2 style) or ``graph`` (the DAG)."""
    if style not in STYLES:
        raise SpecError(f"unknown style {style!r}{did_you_mean(style, STYLES)} (one of: {', '.join(STYLES)})")
    report = _report(source)
    if style == "graph":
        from .dag import render_graph

        return render_graph(report)
    from .volumes import render_volumes

    return render_volumes(report, collapse=collapse)


def chart(source: Report | Source, *, log: bool = False) -> str:
    """Per-layer neurons, parameters and MACs as horizontal bars (SVG)."""
    from .bars import render_chart

    return render_chart(_report(source), log=log)
