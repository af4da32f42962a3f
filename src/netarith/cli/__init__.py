"""The command line: parse arguments, call the API, print; errors exit 2.

Each subcommand lives in its own module here with a ``register(subparsers)``
function; this module only dispatches. A :class:`NetarithError` prints its
message and exits 2; a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..errors import NetarithError

__all__ = ["COMMANDS", "main"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "analyze", "show", "export", "zoo", "explain", "sizes", "solve", "audit", "reconcile", "draw", "chart",
    "serve",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser, with every subcommand, or with ``only`` that one (its module alone is imported)."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="netarith",
        description="The exact arithmetic of convolutional networks: shapes, neurons, parameters, "
        "MACs, memory and receptive fields, without running the network.",
    )
    parser.add_argument("--version", action="version", version=f"netarith {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def _command(args: Sequence[str]) -> str | None:
    """The subcommand, when it is the first word: then only it is set up, which keeps the start
    short. Anything else (no command, --help, a typo) gets the parser with all of them."""
    words = [a for a in args if a != "--debug"]
    return words[0] if words and words[0] in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netarith`` command; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    parser = build_parser(_command(args_list))
    try:
        args = parser.parse_args(args_list)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code: int = args.func(args)
        return code
    except NetarithError as exc:
        if debug:
            raise
        print(f"netarith: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
