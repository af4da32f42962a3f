"""``netarith draw SOURCE -o net.svg``: the network as a picture (SVG)."""

from __future__ import annotations

import argparse

from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    from ..draw import STYLES

    p: argparse.ArgumentParser = sub.add_parser(
        "draw", help="draw the network as SVG (paper-style volumes, or the graph)",
        description="Draw the network as SVG: 'volumes' shows each layer as a 3D box with its sizes, "
        "in the style of AlexNet's Figure 2; 'graph' shows the layers as a graph with the shapes on "
        "the edges.",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--style", choices=STYLES, default="volumes")
    p.add_argument("--no-collapse", action="store_true",
                   help="draw repeated blocks one by one instead of once with a count")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze_graph
    from ..draw import draw

    report = analyze_graph(read_graph(args), convention=args.convention)
    write_output(draw(report, args.style, collapse=not args.no_collapse), args.output)
    return 0
