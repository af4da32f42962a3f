"""Markdown (and the notebook's HTML table): the same rows as the text table."""

from __future__ import annotations

import html

from ..analyze import Report
from .common import COLUMNS, row, summary_lines

__all__ = ["render", "render_html"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(report: Report) -> str:
    inputs = ", ".join(str(s) for s in report.inputs)
    out = [f"**{_cell(report.model)}**: input {inputs}, convention `{report.convention.name}`", ""]
    out.append("| " + " | ".join(COLUMNS) + " |")
    out.append("|" + "|".join(["---", "---", "---", "--:", "--:", "--:", "--:"]) + "|")
    for r in report.layers:
        out.append("| " + " | ".join(_cell(c) for c in row(r)) + " |")
    t = report.totals
    out.append(f"| **total** | | | {t.neurons:,} | {t.params:,} | {t.macs:,} | |")
    out.append("")
    out += [f"- {_cell(line)}" for line in summary_lines(report)]
    if report.warnings:
        out += ["", "Warnings:", ""]
        out += [f"- `{_cell(name)}`: {_cell(text)}" for name, text in report.warnings]
    return "\n".join(out) + "\n"


def render_html(report: Report) -> str:
    """An HTML table for notebooks; every name and message is escaped."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(
            f'<td style="text-align:{"right" if i >= 3 else "left"}">{esc(c)}</td>' for i, c in enumerate(row(r))
        ) + "</tr>"
        for r in report.layers
    )
    t = report.totals
    foot = (f"<tr><th>total</th><td></td><td></td><td>{t.neurons:,}</td><td>{t.params:,}</td>"
            f"<td>{t.macs:,}</td><td></td></tr>")
    caption = esc(f"{report.model}: convention {report.convention.name}")
    warn = ""
    if report.warnings:
        warn = "<ul>" + "".join(f"<li><code>{esc(n)}</code>: {esc(w)}</li>" for n, w in report.warnings) + "</ul>"
    return f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table>{warn}"
