"""What the text renderers share: cells of a layer row, number formatting."""

from __future__ import annotations

from ..analyze import LayerResult, Report
from ..receptive import to_json

__all__ = ["COLUMNS", "human", "rf_cell", "row", "summary_lines"]

COLUMNS = ("layer", "kind", "output", "neurons", "params", "MACs", "RF")


def rf_cell(result: LayerResult) -> str:
    rf = to_json(result.rf)
    if rf is None:
        return "-"
    sizes = rf["size"]
    text = [str(s) if isinstance(s, int) else f"{s:g}" for s in sizes]
    return text[0] if len(set(text)) == 1 else "x".join(text)


NOT_COUNTED = "not counted"


def _count(result: LayerResult, quantity: str, value: int) -> str:
    return NOT_COUNTED if quantity in result.uncounted else f"{value:,}"


def row(result: LayerResult) -> tuple[str, ...]:
    return (
        result.name,
        result.kind,
        str(result.shape),
        f"{result.neurons:,}",
        _count(result, "params", result.params),
        _count(result, "macs", result.macs),
        rf_cell(result),
    )


def human(value: int, unit: str = "") -> str:
    """1,234,567 -> '1.23 M' (powers of 1000)."""
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g} {suffix}{unit}"
    return f"{value} {unit}".rstrip()


def summary_lines(report: Report) -> list[str]:
    t = report.totals
    lines = [
        f"params       {t.params:,} ({human(t.params)})"
        + (f", buffers {t.buffers:,}" if t.buffers else ""),
        f"MACs         {t.macs:,} ({human(t.macs)}; FLOPs = 2 x MACs = {t.flops:,})",
        f"neurons      {t.neurons:,} in weighted layers (conv, linear); "
        f"activations {t.activations:,} in all layers",
        f"memory       activations {human(t.activation_bytes, 'B')}, "
        f"params {human(t.param_bytes, 'B')} ({report.dtype}, per sample)",
    ]
    if t.not_counted:
        names = ", ".join(t.not_counted[:8]) + (", ..." if len(t.not_counted) > 8 else "")
        lines.append(f"not counted  {len(t.not_counted)} layer(s) had something that could not be counted "
                     f"({names}): the totals above are lower bounds")
    return lines
