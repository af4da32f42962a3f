"""The JSON API as plain functions: a request body (a dict) in, a status and a payload out.

Sources are notation text (``"source"``) or a zoo name (``"model"``). Nothing
else: a file path or a ``package.module:factory`` is refused, so no request can
read a file or import code. Errors come back as::

    {"error": {"type": "NotationError", "message": "...", "line": 3, "column": 5}}

with 400 for a malformed request, 422 for a network that does not parse or
compute (the message located at its line and column when it has one), 413 for
too much, 501 for a feature this build does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .._values import frozen
from ..analyze import Report, analyze_graph
from ..conventions import CONVENTIONS
from ..errors import NetarithError, NotationError
from ..graph import Graph
from ..notation import parse, to_notation
from ..sources import _looks_like_factory, _looks_like_path
from . import features

__all__ = ["HANDLERS", "MAX_BODY", "MAX_LAYERS", "ApiError", "Download", "zoo_list", "zoo_model"]

#: Request bodies larger than this are refused (413) before they are parsed.
MAX_BODY = 1_000_000
#: Networks with more layers than this are refused (413).
MAX_LAYERS = 10_000

_FORMATS = {
    "json": ("application/json", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "table": ("text/plain; charset=utf-8", "txt"),
    "svg": ("image/svg+xml", "svg"),
    "graph-svg": ("image/svg+xml", "svg"),
    "chart-svg": ("image/svg+xml", "svg"),
}


class ApiError(Exception):
    """An answer that is an error: its HTTP status and a JSON body."""

    def __init__(self, status: int, kind: str, message: str, **where: int | None) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {"error": {"type": kind, "message": message,
                                                  **{k: v for k, v in where.items() if v is not None}}}


@frozen(slots=False)
class Download:
    """A file to hand back as it is (not JSON)."""

    text: str
    media_type: str
    filename: str


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _field(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = body.get(name, default)
    if value is not None and not isinstance(value, kind):
        raise _bad(f"'{name}' must be a {kind.__name__}, got {type(value).__name__}")
    return value


def located(exc: NetarithError) -> ApiError:
    """A library error as a 422, with the line and column when the error knows them."""
    message = str(exc)
    if isinstance(exc, NotationError):
        return ApiError(422, "NotationError", message, line=exc.line, column=exc.column)
    line = getattr(exc, "line", None)  # ShapeError and GraphError know the line of their layer
    return ApiError(422, type(exc).__name__, message, line=line, column=1 if line else None)


def _count_layers(text: str) -> int:
    """An upper bound on the layers in notation, cheap enough to run before parsing."""
    lines = sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return lines + text.count("|")


def _graph(body: dict[str, Any]) -> tuple[Graph, str | None]:
    """The network a request names, and its zoo name if it came from the zoo."""
    source = _field(body, "source", str)
    model = _field(body, "model", str)
    if (source is None) == (model is None):
        raise _bad("give either 'source' (notation text) or 'model' (a zoo name)")
    if model is not None:
        from .. import zoo

        if not zoo.exists(model):
            raise ApiError(404, "NotFound", f"no zoo model named {model!r}; GET /api/zoo lists them")
        return zoo.build(model), model
    assert source is not None
    if not source.strip():
        raise ApiError(422, "NotationError", "empty notation: write an input line such as 'input 3x224x224'",
                       line=1, column=1)
    one_line = source.strip()
    if "\n" not in one_line and "|" not in one_line and (
            _looks_like_factory(one_line) or _looks_like_path(one_line)):
        raise _bad(f"{one_line!r} looks like a file path or a Python factory; the API reads notation "
                   "text or a zoo model name only (nothing is read from disk or imported)")
    if _count_layers(source) > MAX_LAYERS + 8:
        raise ApiError(413, "TooLarge", f"more than {MAX_LAYERS:,} layers; the page and API analyse at most "
                       f"{MAX_LAYERS:,} (use the command line for larger networks)")
    try:
        graph = parse(source)
    except NetarithError as exc:
        raise located(exc) from None
    return graph, None


def _report(body: dict[str, Any]) -> tuple[Report, str | None]:
    graph, model = _graph(body)
    if len(graph) > MAX_LAYERS:
        raise ApiError(413, "TooLarge", f"{len(graph):,} layers; the API analyses at most {MAX_LAYERS:,}")
    convention = _field(body, "convention", str)
    if convention is not None and convention not in CONVENTIONS:
        raise _bad(f"unknown convention {convention!r}; one of: {', '.join(CONVENTIONS)}")
    shape = _field(body, "input", str)
    mode = _field(body, "mode", str, "eval")
    try:
        if shape:
            graph = graph.with_input(shape)
        return analyze_graph(graph, convention=convention, mode=mode), model
    except NetarithError as exc:
        raise located(exc) from None


def analyze(body: dict[str, Any]) -> dict[str, Any]:
    """The report (design.md's JSON contract) plus the summary lines and the warnings."""
    from ..report.common import row, summary_lines

    report, _ = _report(body)
    data = report.to_dict()
    data["rows"] = [list(row(r)) for r in report.layers]
    data["summary"] = summary_lines(report)
    return data


def draw(body: dict[str, Any]) -> dict[str, Any]:
    from ..draw import STYLES
    from ..draw import draw as render

    style = _field(body, "style", str, "volumes")
    if style not in STYLES:
        raise _bad(f"unknown style {style!r}; one of: {', '.join(STYLES)}")
    collapse = _field(body, "collapse", bool, True)
    report, _ = _report(body)
    return {"svg": render(report, style, collapse=collapse)}


def chart(body: dict[str, Any]) -> dict[str, Any]:
    from ..draw import chart as render

    report, _ = _report(body)
    return {"svg": render(report, log=bool(_field(body, "log", bool, False)))}


def export(body: dict[str, Any]) -> Download:
    """The report as a file: json, csv, markdown, table, svg (volumes), graph-svg, chart-svg."""
    from ..draw import chart as render_chart
    from ..draw import draw as render_draw
    from ..report import render

    fmt = _field(body, "format", str, "json")
    if fmt not in _FORMATS:
        raise _bad(f"unknown format {fmt!r}; one of: {', '.join(_FORMATS)}")
    report, _ = _report(body)
    if fmt == "svg":
        text = render_draw(report)
    elif fmt == "graph-svg":
        text = render_draw(report, "graph")
    elif fmt == "chart-svg":
        text = render_chart(report)
    else:
        text = render(report, fmt)
    media, suffix = _FORMATS[fmt]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", report.model)[:60] or "network"
    return Download(text, media, f"{stem}.{suffix}")


def _layer(body: dict[str, Any], report: Report) -> str | None:
    layer: str | None = _field(body, "layer", str)
    if layer is not None:
        try:
            report[layer]
        except NetarithError as exc:
            raise ApiError(404, "NotFound", str(exc)) from None
    return layer


def _optional(feature: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except features.Unavailable as exc:
        raise ApiError(501, "NotImplemented",
                       f"{feature} is not available in this build of netarith (missing: {exc})") from None
    except NetarithError as exc:
        raise located(exc) from None


def explain(body: dict[str, Any]) -> dict[str, Any]:
    """Each number of a layer (or of every layer) as a derivation."""
    report, _ = _report(body)
    layer = _layer(body, report)
    return {"layer": layer, "explanation": _optional("explain", lambda: features.explain(report, layer))}


def sizes(body: dict[str, Any]) -> dict[str, Any]:
    """The input sizes the network accepts and those where no division drops a pixel."""
    report, _ = _report(body)
    lo = _field(body, "lo", int)
    hi = _field(body, "hi", int)
    if lo is not None and hi is None:
        raise _bad("give 'hi' with 'lo' (the input sizes lo..hi to search)")
    if (lo is not None and (isinstance(lo, bool) or lo < 1)) or (hi is not None and (isinstance(hi, bool) or hi < 1)):
        raise _bad("'lo' and 'hi' must be positive integers")
    return {"sizes": _optional("sizes", lambda: features.sizes(report, lo, hi))}


def audit(body: dict[str, Any]) -> dict[str, Any]:
    """A zoo model's published claims against the computed numbers."""
    if _field(body, "model", str) is None:
        raise _bad("audit needs 'model': the name of a zoo model with published claims")
    report, model = _report(body)
    assert model is not None
    return {"model": model, "audit": _optional("audit", lambda: features.audit(report, model))}


def zoo_list() -> dict[str, Any]:
    from .. import zoo

    return {"models": [
        {"name": e.name, "family": e.family, "input": e.input, "source": e.source, "description": e.description}
        for e in zoo.entries()
    ]}


def zoo_model(name: str) -> dict[str, Any]:
    from .. import zoo

    if not zoo.exists(name):
        raise ApiError(404, "NotFound", f"no zoo model named {name!r}; GET /api/zoo lists them")
    entry = zoo.get(name)
    return {"name": name, "family": entry.family, "input": entry.input, "source": entry.source,
            "notation": to_notation(zoo.build(name))}


#: POST endpoints: path -> handler taking the JSON body.
HANDLERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "analyze": analyze,
    "draw": draw,
    "chart": chart,
    "export": export,
    "explain": explain,
    "sizes": sizes,
    "audit": audit,
}
