"""``netarith sizes SOURCE``: closed forms of every layer's size, the smallest and the exact inputs."""

from __future__ import annotations

import argparse

from ..errors import SpecError
from .common import add_analysis, add_source, read_graph, write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sizes", help="which input sizes fit: closed forms, the smallest input, the exact ones",
        description="Each layer's output size as a closed form of the input size (floors of affine "
        "expressions compose), the smallest input every layer accepts, the input sizes in a range where no "
        "window drops or invents a pixel, and the exact sizes nearest the model's input.",
    )
    add_source(p)
    add_analysis(p)
    p.add_argument("--range", "-r", metavar="LO:HI",
                   help="input sizes to search, at most 65,536 (default 1 to twice the input; "
                   "for a larger input, the 65,536 sizes around it)")
    p.add_argument("--mode", choices=("eval", "train"), default="eval",
                   help="train: the training-only layers (auxiliary heads) must be valid too")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def parse_range(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    lo, sep, hi = text.partition(":")
    try:
        low, high = int(lo), int(hi)
    except ValueError:
        raise SpecError(f"--range must be LO:HI with integers, e.g. 1:512: {text!r}") from None
    if not sep or not 1 <= low <= high:
        raise SpecError(f"--range must be LO:HI with 1 <= LO <= HI: {text!r}")
    return low, high


def run(args: argparse.Namespace) -> int:
    from ..sizes import render, sizes

    graph = read_graph(args)
    result = sizes(graph, convention=args.convention, range=parse_range(args.range), mode=args.mode)
    write_output(render(result, args.format), args.output)
    return 0
