"""``netarith zoo``: the models the zoo knows, with their size and source."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "zoo", help="list the zoo's models",
        description="List the zoo's models: name, family, default input, params, GMACs, source.",
    )
    p.add_argument("--family", help="only this family")
    p.add_argument("--format", "-f", choices=("table", "json"), default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from .. import zoo
    from ..analyze import analyze_graph

    rows = []
    for entry in zoo.entries():
        if args.family and entry.family != args.family:
            continue
        totals = analyze_graph(zoo.build(entry.name)).totals
        rows.append({
            "name": entry.name, "family": entry.family, "input": entry.input,
            "params": totals.params, "gmacs": round(totals.macs / 1e9, 3), "source": entry.source,
        })
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "family", "input", "params", "GMACs", "source")
    cells = [header] + [
        (r["name"], r["family"], r["input"], f"{r['params']:,}", f"{r['gmacs']:.3f}", r["source"])
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    for c in cells:
        print("  ".join(str(v).rjust(w) if i in (3, 4) else str(v).ljust(w)
                        for i, (v, w) in enumerate(zip(c, widths))).rstrip())
    return 0
