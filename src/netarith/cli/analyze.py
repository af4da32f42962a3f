"""``netarith analyze SOURCE``: the per-layer table, or JSON, CSV, Markdown."""

from __future__ import annotations

import argparse

from ..analyze import DTYPES
from ..counting import TOOLS as _TOOLS
from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("table", "json", "csv", "markdown")
COUNTERS = tuple(_TOOLS)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "analyze", help="every layer's shape, neurons, params, MACs and receptive field",
        description="Analyse a network: shapes, neurons, parameters, MACs, memory and receptive "
        "fields per layer, with totals and warnings.",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--format", "-f", choices=FORMATS, default="table")
    p.add_argument("--dtype", choices=tuple(DTYPES), default="float32",
                   help="element type for the memory figures")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--count", action="append", metavar="TOOL", choices=COUNTERS,
                   help=f"also give the total another tool prints ({', '.join(COUNTERS)}); repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze_graph
    from ..report import render

    graph = read_graph(args)
    report = analyze_graph(graph, convention=args.convention, dtype=args.dtype)
    text = render(report, args.format)
    if args.count:
        text = _with_counts(report, text, args.format, args.count)
    write_output(text, args.output)
    return 0


def _with_counts(report: Any, text: str, fmt: str, tools: list[str]) -> str:
    import json

    from ..counting import count, describe

    counts = [count(report, tool) for tool in dict.fromkeys(tools)]
    if fmt == "json":
        data = json.loads(text)
        data["counts"] = [c.to_dict() for c in counts]
        return json.dumps(data, indent=2) + "\n"
    if fmt == "csv":
        return text + "".join(f"{c.tool},{c.total}\n" for c in counts)
    return text + "\n" + "\n".join(describe(c) for c in counts) + "\n"
