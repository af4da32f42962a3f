"""Optional features the API calls when their module is present: explain, sizes, audit.

They are built separately; until a module exists its endpoint answers 501 with a
message saying so. Each adapter is one short function, so wiring a feature is
a change here and nowhere else.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
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


def _function(names: tuple[str, ...], attr: str) -> Callable[..., Any]:
    for name in names:
        try:
            module = _module(name)
        except Unavailable:
            continue
        fn = getattr(module, attr, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    raise Unavailable(f"{attr}() in " + " or ".join(f"netarith.{n}" for n in names))


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


def _call(fn: Callable[..., Any], first: Any, **options: Any) -> Any:
    """Call with the options the function declares (it may not take them all)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = {}  # type: ignore[assignment]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    given = {k: v for k, v in options.items() if v is not None and (takes_any or k in params)}
    return fn(first, **given)


def explain(report: Report, layer: str | None) -> Any:
    """Derivations of one layer (or all): ``netarith.explain.explain(graph, layer=..., convention=...)``,
    which reads a source (the report's graph), not a report. One layer's answer is that layer's
    derivation (its ``steps``, which the page shows as a table)."""
    fn = _function(("explain",), "explain")
    data = plain(_call(fn, report.graph, layer=layer, convention=report.convention.name))
    if layer is not None and isinstance(data, dict) and len(data.get("layers") or ()) == 1:
        return data["layers"][0]
    return data


def sizes(report: Report, lo: int | None, hi: int | None) -> Any:
    """Valid and exact input sizes: ``sizes(graph, range=(lo, hi), convention=...)`` from netarith.sizes."""
    fn = _function(("sizes", "explain", "solve"), "sizes")
    span = (lo if lo is not None else 1, hi) if hi is not None else None
    return plain(_call(fn, report.graph, range=span, convention=report.convention.name))


def audit(report: Report, model: str) -> Any:
    """The zoo model's published claims checked: ``netarith.audit.audit(report, model=...)``."""
    fn = _function(("audit",), "audit")
    return plain(_call(fn, report, model=model))
