"""The features behind /api/explain, /api/sizes and /api/audit.

Each adapter calls the feature's module and returns its result as text (what the
page shows) and as data. A build without the module answers 501 (Unavailable).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..analyze import Report

__all__ = ["Unavailable", "audit", "explain", "sizes"]


class Unavailable(Exception):
    """A feature whose module is not part of this build (the API answers 501)."""


def _module(*names: str) -> ModuleType:
    """The first of ``netarith.<name>`` that exists; Unavailable if none does."""
    for name in names:
        full = f"netarith.{name}"
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:  # the module exists but something it imports does not
                raise
    raise Unavailable(" or ".join(f"netarith.{n}" for n in names))


def plain(value: Any) -> Any:
    """A result as JSON-ready data: ``to_dict()`` when it has one, lists and dicts walked."""
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def explain(report: Report, layer: str | None) -> Any:
    """Derivations of one layer (or all), as text for the page and as data."""
    module = _module("explain")
    result = module.explain(report.graph, layer=layer, convention=report.convention)
    data = plain(result)
    return {"text": module.render(result, "text"), **data}


def sizes(report: Report, lo: int | None, hi: int | None) -> Any:
    """Closed forms, the smallest input and the exact inputs of the network."""
    module = _module("sizes")
    span = (lo, hi) if lo is not None and hi is not None else None
    result = module.sizes(report.graph, convention=report.convention, range=span)
    return {"text": module.render(result, "text"), **plain(result)}


def audit(report: Report, model: str) -> Any:
    """A zoo model's printed figures checked against the computed ones."""
    module = _module("audit")
    text_module = _module("report.audit")
    result = module.audit(model)
    return {"text": text_module.render_text(result), **plain(result)}
