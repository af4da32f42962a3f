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

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "main"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "analyze", "show", "export", "zoo", "explain", "sizes", "solve", "audit", "reconcile", "draw", "chart",
    "serve",
)


def _columns() -> int:
    """The terminal's width, as shutil.get_terminal_size reads it ($COLUMNS first, 80 if unknown)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    stdout = sys.__stdout__
    try:
        return (os.get_terminal_size(stdout.fileno()).columns or 80) if stdout else 80
    except (ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, given the width: left to ask itself, it imports shutil (and with
    it bz2, lzma and zlib), which was a twentieth of the command line's start."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser with that formatter; subcommands' parsers are made of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser, with every subcommand, or with ``only`` that one (its module alone is imported)."""
    from .. import __version__

    parser = _Parser(
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
