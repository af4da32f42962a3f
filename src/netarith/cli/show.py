"""``netarith show SOURCE``: the network itself, as notation (or its layer list)."""

from __future__ import annotations

import argparse

from .common import add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "show", help="print a network as notation",
        description="Print a network (a zoo model, a file, a model file) as notation that parses "
        "back to the same graph.",
    )
    add_source(p)
    p.add_argument("--input", "-i", metavar="SHAPE", help="replace the input shape")
    p.add_argument("--format", "-f", choices=("notation",), default="notation")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..notation import to_notation

    graph = read_graph(args)
    write_output(to_notation(graph), args.output)
    return 0
