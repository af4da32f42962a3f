"""Derivation steps several op families record the same way (see ``trace.py``)."""

from __future__ import annotations

from ..shape import Shape
from ..trace import Trace

__all__ = ["dim_names", "same_shape"]


def dim_names(shape: Shape) -> tuple[str, ...]:
    """What each dim is called in derivations: ``C, H, W``; a vector's one dim is ``features``."""
    if shape.rank == 0:
        return ("features",)
    return ("C", *shape.axis_names())


def same_shape(trace: Trace | None, x: Shape, why: str) -> None:
    """Record that the output has the input's shape, and why."""
    if trace is not None:
        trace.step("shape", f"the input's shape ({why})", str(x), str(x))
