"""``netarith reconcile SOURCE``: what torchinfo, fvcore, ptflops and thop would print, and why."""

from __future__ import annotations

import argparse
import json

from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "reconcile", help="each counting tool's total and the line items that separate them",
        description="Work out the totals torchinfo, fvcore, ptflops and thop print for the network "
        "(batch 1, eval mode) and the line items that separate them from netarith's MACs: bias "
        "adds, normalisation, activations, pooling, adds, transposed convolutions, layers a tool "
        "does not see.",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--format", "-f", choices=("table", "json"), default="table")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze_graph
    from ..counting import reconcile, render

    report = analyze_graph(read_graph(args), convention=args.convention)
    counts = reconcile(report)
    if args.format == "json":
        data = {"model": report.model, "macs": report.totals.macs, "tools": [c.to_dict() for c in counts]}
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = render(report, counts)
    write_output(text, args.output)
    return 0
