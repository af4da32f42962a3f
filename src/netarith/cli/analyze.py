"""``netarith analyze SOURCE``: the per-layer table, or JSON, CSV, Markdown."""

from __future__ import annotations

import argparse
from typing import Any

from ..analyze import DTYPES
from .common import add_analysis, add_source, read_graph, write_output

FORMATS = ("table", "json", "csv", "markdown")


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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze_graph
    from ..report import render

    graph = read_graph(args)
    report = analyze_graph(graph, convention=args.convention, dtype=args.dtype)
    write_output(render(report, args.format), args.output)
    return 0
