"""``netarith audit NAME|CLAIMS.yaml``: every printed figure checked, every mismatch explained."""

from __future__ import annotations

import argparse
import json

from .common import write_output

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "audit", help="check a paper's printed figures and explain the mismatches",
        description="Audit the figures a paper prints about a network: for each claim the computed "
        "value and a verdict (match, rounds, mismatch), and for each mismatch what explains it "
        "(an architecture change, a counting convention, or a slip), best first.",
    )
    p.add_argument("target", metavar="NAME|CLAIMS.yaml", help="a zoo model with claims, or a claims file")
    p.add_argument("--convention", "-c", metavar="NAME", help="override the model's rounding convention")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text")
    p.add_argument("--strict", action="store_true", help="exit 1 when a mismatch has no explanation")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..audit import audit
    from ..report.audit import render_text

    report = audit(args.target, convention=args.convention)
    if args.format == "json":
        text = json.dumps(report.to_dict(), indent=2) + "\n"
    else:
        text = render_text(report)
    write_output(text, args.output)
    return 1 if args.strict and report.unexplained else 0
