"""``netarith chart SOURCE -o chart.svg``: per-layer neurons, params and MACs as bars."""

from __future__ import annotations

import argparse

from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "chart", help="per-layer neurons, params and MACs as an SVG bar chart",
        description="Chart each layer's neurons, parameters and MACs as bars (SVG).",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--log", action="store_true", help="bar lengths on a log scale")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze_graph
    from ..draw import chart

    report = analyze_graph(read_graph(args), convention=args.convention)
    write_output(chart(report, log=args.log), args.output)
    return 0
