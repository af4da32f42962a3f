"""The audit as text: a row per claim, explanations and notes under each."""

from __future__ import annotations

import textwrap

from ..audit import AuditReport, ClaimResult

__all__ = ["render_text"]

_WIDTH = 100


def _computed(result: ClaimResult) -> str:
    value = result.computed
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return f"{value:,}"


def _verdict(result: ClaimResult) -> str:
    if result.verdict == "rounds down":
        return "rounds (down)"
    if result.verdict == "mismatch":
        return "MISMATCH"
    return result.verdict


def render_text(report: AuditReport) -> str:
    head = f"Audit of {report.model}"
    if report.source:
        head += f": {report.source}"
    lines = textwrap.wrap(head, _WIDTH) + [f"convention {report.convention}", ""]
    if report.failure:
        lines += textwrap.wrap(f"The network as printed does not compute: {report.failure}", _WIDTH) + [""]
    rows = [("figure", "claimed", "computed", "verdict")]
    rows += [(r.claim.figure, r.claim.value.text, _computed(r), _verdict(r)) for r in report.results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2]), row[3]]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
            continue
        result = report.results[n - 1]
        indent = " " * 4
        if result.claim.where:
            lines += textwrap.wrap(f"stated in: {result.claim.where}", _WIDTH, initial_indent=indent,
                                   subsequent_indent=indent + "  ")
        for i, e in enumerate(result.explanations[:6], start=1):
            label = f"{i}. [{e.family}] "
            lines += textwrap.wrap(label + e.text, _WIDTH, initial_indent=indent,
                                   subsequent_indent=indent + " " * len(label))
        for note in result.notes:
            lines += textwrap.wrap("- " + note, _WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")
    counts: dict[str, int] = {}
    for r in report.results:
        key = "rounds" if r.verdict.startswith("rounds") else r.verdict
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    unexplained = len(report.unexplained)
    lines += ["", f"{len(report.results)} figures: {summary}; "
              + (f"{unexplained} mismatch(es) without an explanation" if unexplained
                 else "every mismatch has an explanation")
              + f". Searched {report.searched:,} variants in {report.seconds:.2f} s."]
    return "\n".join(lines) + "\n"
