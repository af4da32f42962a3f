"""``netarith export SOURCE --to pytorch``: readable framework code for the network."""

from __future__ import annotations

import argparse

from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "export", help="write the network as PyTorch code",
        description="Write the network as a PyTorch nn.Module (torch is not needed to write it).",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--to", choices=("pytorch",), default="pytorch")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..exporters.torch import to_torch_code

    graph = read_graph(args)
    write_output(to_torch_code(graph, convention=args.convention), args.output)
    return 0
