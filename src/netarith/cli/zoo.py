"""``netarith zoo``: the models the zoo knows, with their size and source."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("table", "json", "csv", "markdown")
_HEADER = ("name", "family", "input", "params", "GMACs", "source")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "zoo", help="list the zoo's models",
        description="List the zoo's models: name, family, default input, parameters, GMACs "
        "(multiply-accumulates of conv and linear layers, in billions, at the default input, "
        "training-only layers left out) and source. Analyse one with 'netarith analyze NAME'.",
    )
    p.add_argument("pattern", nargs="?", metavar="PATTERN", help="only models whose name contains PATTERN")
    p.add_argument("--family", help="only this family (e.g. resnet, vgg)")
    p.add_argument("--format", "-f", choices=FORMATS, default="table")
    p.set_defaults(func=run)


def rows(pattern: str | None = None, family: str | None = None) -> list[dict[str, Any]]:
    """One row per model: its name, family, input, exact params and MACs, GMACs, source."""
    from .. import zoo
    from ..analyze import analyze_graph
    from ..errors import SourceError, did_you_mean

    entries = zoo.entries()
    if family is not None:
        families = sorted({e.family for e in entries})
        if family not in families:
            raise SourceError(f"no zoo family {family!r}{did_you_mean(family, families)} "
                              f"(families: {', '.join(families)})")
        entries = [e for e in entries if e.family == family]
    if pattern:
        entries = [e for e in entries if pattern.lower() in e.name.lower()]
        if not entries:
            raise SourceError(f"no zoo model name contains {pattern!r}{did_you_mean(pattern, zoo.names())}")
    out = []
    for entry in entries:
        totals = analyze_graph(zoo.build(entry.name)).totals
        out.append({
            "name": entry.name, "family": entry.family, "input": entry.input,
            "params": totals.params, "macs": totals.macs, "gmacs": round(totals.macs / 1e9, 3),
            "source": entry.source,
        })
    return out


def run(args: argparse.Namespace) -> int:
    table = rows(args.pattern, args.family)
    if args.format == "json":
        import json

        print(json.dumps(table, indent=2))
        return 0
    cells = [(r["name"], r["family"], r["input"], f"{r['params']:,}", f"{r['gmacs']:.3f}", r["source"])
             for r in table]
    if args.format == "csv":
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_HEADER)
        writer.writerows((r["name"], r["family"], r["input"], r["params"], f"{r['gmacs']:.3f}", r["source"])
                         for r in table)
        return 0
    if args.format == "markdown":
        print("| " + " | ".join(_HEADER) + " |")
        print("|" + "|".join("---:" if i in (3, 4) else "---" for i in range(len(_HEADER))) + "|")
        for c in cells:
            print("| " + " | ".join(v.replace("|", "\\|") for v in c) + " |")
        return 0
    widths = [max(len(str(c[i])) for c in [_HEADER, *cells]) for i in range(len(_HEADER))]
    for c in [_HEADER, *cells]:
        print("  ".join(str(v).rjust(w) if i in (3, 4) else str(v).ljust(w)
                        for i, (v, w) in enumerate(zip(c, widths))).rstrip())
    return 0
