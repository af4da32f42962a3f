"""Arguments and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys

from ..conventions import CONVENTIONS
from ..errors import SourceError
from ..graph import Graph
from ..sources import MAX_TEXT_BYTES, load

__all__ = ["add_analysis", "add_source", "read_graph", "write_output"]


def add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="notation file, one-liner ('3x227x227 | conv 96 k11 s4'), zoo name, model file, "
        "or - for standard input",
    )


def add_analysis(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", "-i", metavar="SHAPE", help="input shape per sample, e.g. 3x227x227")
    parser.add_argument(
        "--convention", "-c", metavar="NAME",
        help=f"rounding convention: {', '.join(CONVENTIONS)} (default: the source's, else pytorch)",
    )


def read_graph(args: argparse.Namespace) -> Graph:
    """The graph named by ``args.source``, resized by ``args.input`` if given."""
    source = args.source
    if source == "-":
        data = sys.stdin.buffer.read(MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise SourceError("standard input is too large for notation")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"standard input is not UTF-8 text (byte {exc.start})") from None
        from ..notation import parse

        graph = parse(text, source="<stdin>")
    else:
        graph = load(source, input=getattr(args, "input", None))
    if getattr(args, "input", None):
        graph = graph.with_input(args.input)
    return graph


def write_output(text: str, path: str | None) -> None:
    if path and path != "-":
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise SourceError(f"cannot write {path}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
