"""``netarith explain SOURCE [--layer NAME]``: every number as a derivation."""

from __future__ import annotations

import argparse

from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "explain", help="every number of a layer as a derivation (formula, numbers, result)",
        description="Explain each number of each layer (or of one): the output size on every spatial axis, "
        "neurons, parameters, MACs, connections and the receptive field, each as the formula, the same with "
        "the numbers in it, and the result, under the active convention. For one layer whose windows do not "
        "fit evenly, also what the other conventions, the nearest exact inputs and other paddings give.",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--layer", "-l", metavar="NAME", help="explain this layer only (with the alternatives)")
    p.add_argument("--format", "-f", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--mode", choices=("eval", "train"), default="eval",
                   help="train counts the MACs of training-only layers")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..explain import explain

    graph = read_graph(args)
    result = explain(graph, layer=args.layer, convention=args.convention, mode=args.mode)
    write_output(result.render(args.format), args.output)
    return 0
