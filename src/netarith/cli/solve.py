"""``netarith solve``: padding, output padding, input sizes, in_features, and PyTorch's shape errors."""

from __future__ import annotations

import argparse
import json

from .common import add_analysis, add_source, read_graph, write_output
from .sizes import parse_range

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

#: solutions shown with their derivation before the rest are listed by name
SHOWN = 8


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "solve", help="the inverse questions: padding, output padding, input sizes, in_features, errors",
        description="Answer the inverse questions with the same arithmetic as the analysis, every solution "
        "in a small range, the simplest first.",
    )
    solvers = p.add_subparsers(dest="question", metavar="QUESTION")

    pad = solvers.add_parser("padding", help="which padding gives an output size",
                             description="Every padding (symmetric and asymmetric, per convention, "
                             "TensorFlow SAME included) that gives OUT windows on IN.")
    _window_args(pad)
    pad.add_argument("--out", type=int, required=True, help="wanted output size")
    pad.add_argument("--pool", action="store_true", help="pooling rules (ceil_mode, Caffe) instead of a convolution")
    pad.add_argument("--max-pad", type=int, help="largest padding per side to try (default: the kernel)")
    pad.add_argument("--format", "-f", choices=("text", "json"), default="text")
    pad.set_defaults(func=run_padding)

    op = solvers.add_parser("output-padding", help="the output_padding a transposed convolution needs")
    _window_args(op)
    op.add_argument("--out", type=int, required=True, help="wanted output size")
    op.add_argument("--padding", "-p", type=int, default=0)
    op.add_argument("--format", "-f", choices=("text", "json"), default="text")
    op.set_defaults(func=run_output_padding)

    inp = solvers.add_parser("input", help="which input sizes give a layer an output size")
    add_source(inp)
    add_analysis(inp)
    inp.add_argument("--layer", "-l", required=True, metavar="NAME")
    inp.add_argument("--out", required=True, metavar="SIZE", help="7, or 7x7 per axis")
    inp.add_argument("--range", "-r", metavar="LO:HI", help="input sizes to search (default 1 to 4x the input)")
    inp.add_argument("--format", "-f", choices=("text", "json"), default="text")
    inp.set_defaults(func=run_input)

    lin = solvers.add_parser("linear", help="the in_features of every linear layer")
    add_source(lin)
    add_analysis(lin)
    lin.add_argument("--format", "-f", choices=("text", "json"), default="text")
    lin.set_defaults(func=run_linear)

    err = solvers.add_parser("error", help="read a PyTorch shape error and say what to change")
    err.add_argument("message", help="the error message (quote it)")
    err.add_argument("--source", "-s", metavar="SOURCE", help="the network, to point at its layers")
    add_analysis(err)
    err.add_argument("--format", "-f", choices=("text", "json"), default="text")
    err.set_defaults(func=run_error)
    p.set_defaults(func=lambda args: _help(p))


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in", dest="size", type=int, required=True, help="input size along the axis")
    p.add_argument("--kernel", "-k", type=int, required=True)
    p.add_argument("--stride", "-s", type=int, default=1)
    p.add_argument("--dilation", "-d", type=int, default=1)


def _and(values: Any) -> str:
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def _derivation(steps: Any) -> str:
    last = [s for s in steps if s.formula][-1]
    return f"{last.numbers} = {last.result}" if last.numbers else f"{last.formula} = {last.result}"


def _step(s: Any) -> str:
    parts = [s.formula]
    if s.numbers and s.numbers.replace(",", "") not in (s.formula, s.result.replace(",", "")):
        parts.append(s.numbers)
    return " = ".join([*parts, s.result])


def _notes(s: Any) -> str:
    notes = []
    if s.lost:
        notes.append(f"{s.lost} input pixel{'s' if s.lost != 1 else ''} never read")
    if s.overhang:
        notes.append(f"the last window hangs {s.overhang} pixel{'s' if s.overhang != 1 else ''} past the end")
    if s.unused:
        notes.append(f"{s.unused} pixel{'s' if s.unused != 1 else ''} of end padding unused")
    return f"({'; '.join(notes)})" if notes else "(exact)"


def run_padding(args: argparse.Namespace) -> int:
    from ..solve import padding

    found = padding(args.size, args.out, args.kernel, args.stride, args.dilation, pool=args.pool,
                    max_pad=args.max_pad)
    if args.format == "json":
        write_output(_dump({"in": args.size, "out": args.out, "kernel": args.kernel, "stride": args.stride,
                            "dilation": args.dilation, "pool": args.pool,
                            "solutions": [s.to_dict() for s in found]}), None)
        return 0
    what = "pooling" if args.pool else "convolution"
    lines = [f"{args.size} -> {args.out}: {what} with kernel {args.kernel}, stride {args.stride}, "
             f"dilation {args.dilation}", ""]
    if not found:
        lines.append("no padding in the range gives it; try --max-pad, another stride or kernel")
        write_output("\n".join(lines) + "\n", None)
        return 0
    lines.append("the simplest per convention:")
    for name in ("pytorch", "caffe", "tensorflow", "cuda-convnet"):
        mine = [s for s in found if name in s.frameworks]
        picks = mine[:1] + [s for s in mine[1:] if s.rounding == "same"][:1]
        if not picks:
            lines.append(f"  {name}: none in the range")
        for s in picks:
            lines.append(f"  {name}: {s.how}")
            lines.append(f"      {_derivation(s.steps)}   {_notes(s)}")
    lines.append("")
    merged: dict[tuple[str, str], tuple[list[str], Any]] = {}
    for s in found:
        key = (s.notation, s.rounding)
        merged.setdefault(key, ([], s))[0].extend(f for f in s.frameworks if f not in merged[key][0])
    lines.append(f"all {len(merged)} in the range (padding before+after), simplest first:")
    width = max(len(n) for n, _ in merged)
    for (notation, rounding), (frameworks, s) in merged.items():
        label = "SAME" if rounding == "same" else notation
        lines.append(f"  {label.ljust(width)}  {'round ' + ('down' if rounding != 'ceil' else 'up'):<10}  "
                     f"{', '.join(frameworks):<28}  {_notes(s)}")
    write_output("\n".join(lines) + "\n", None)
    return 0


def run_output_padding(args: argparse.Namespace) -> int:
    from ..solve import output_padding

    a = output_padding(args.size, args.out, args.kernel, args.stride, args.padding, args.dilation)
    if args.format == "json":
        write_output(_dump(a.to_dict()), None)
        return 0
    lines = [f"transposed convolution {a.size} -> {a.out}: kernel {a.kernel}, stride {a.stride}, "
             f"padding {a.padding}, dilation {a.dilation}", ""]
    for s, when in zip(a.steps, ("without output_padding", f"with output_padding = {a.output_padding}")):
        lines.append(f"  {when}: out = {s.formula}")
        lines.append(f"      = {s.numbers} = {s.result}")
    if a.output_padding is not None:
        lines.append(f"  so output_padding = {a.out} - {a.out - a.output_padding} = {a.output_padding} "
                     f"(it must be smaller than the stride {a.stride} or the dilation {a.dilation})")
        lines.append(f"  PyTorch: nn.ConvTranspose2d(C_in, C_out, {a.kernel}, stride={a.stride}, "
                     f"padding={a.padding}, output_padding={a.output_padding}"
                     + (f", dilation={a.dilation}" if a.dilation != 1 else "") + ")")
    else:
        lines.append(f"  no valid output_padding: {a.reason}")
    if len(a.preimages) > 1:
        lines.append("")
        lines.append(f"  why it exists: the matching convolution (kernel {a.kernel}, stride {a.stride}, padding "
                     f"{a.padding}) maps {_and(a.preimages)} to {a.size}; output_padding "
                     f"chooses which one the transposed convolution gives back")
    if a.alternatives:
        lines.append("")
        lines.append("  other (padding, output_padding) pairs giving " + str(a.out) + ": "
                     + ", ".join(f"({p}, {o})" for p, o in a.alternatives))
    write_output("\n".join(lines) + "\n", None)
    return 0


def run_input(args: argparse.Namespace) -> int:
    from ..solve import input_sizes

    graph = read_graph(args)
    a = input_sizes(graph, args.layer, args.out, convention=args.convention, range=parse_range(args.range))
    if args.format == "json":
        write_output(_dump(a.to_dict()), None)
        return 0
    lo, hi = a.range
    lines = [f"input sizes {lo}..{hi} that give {a.layer} an output of "
             + "x".join(str(v) for v in a.want.values()) + ", per axis (the others at the model's input)", ""]
    for axis, sizes in a.sizes.items():
        runs = ", ".join(f"{x}" if x == y else f"{x}..{y}" for x, y in a.runs(axis))
        lines.append(f"  {axis}: {a.want[axis]} = {a.forms[axis]}")
        lines.append(f"     at {runs or 'no size in the range'}")
        exact = a.exact[axis]
        if sizes:
            lines.append("     exact (no window drops or invents a pixel): "
                         + (", ".join(map(str, exact)) if exact else "none"))
    write_output("\n".join(lines) + "\n", None)
    return 0


def run_linear(args: argparse.Namespace) -> int:
    from ..solve import linear

    graph = read_graph(args)
    found = linear(graph, convention=args.convention)
    if args.format == "json":
        write_output(_dump([a.to_dict() for a in found]), None)
        return 0
    lines = []
    for a in found:
        lines.append(f"{a.layer}: in_features = {a.in_features:,}   ->  {a.torch}")
        for s in a.steps:
            lines.append(f"    from {a.source}: {_step(s)}")
        if a.closed_form:
            lines.append(f"    as a function of the input size: {a.closed_form}")
    write_output("\n".join(lines) + "\n", None)
    return 0


def run_error(args: argparse.Namespace) -> int:
    from ..torcherrors import read_error

    source = None
    if args.source:
        args.source = args.source
        source = read_graph(args)
    answer = read_error(args.message, source, convention=args.convention)
    write_output(_dump(answer.to_dict()) if args.format == "json" else answer.render(), None)
    return 0
