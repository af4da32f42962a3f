"""Layer kinds, one file per family; importing this package registers them all."""

from __future__ import annotations

from . import activation, conv, input, linear, merge, norm, pool, resample, reshape  # noqa: F401
from .base import KINDS, REGISTRY, ArgSpec, Context, Op, Out, TorchEmit, arg, get_op, register

__all__ = ["KINDS", "REGISTRY", "ArgSpec", "Context", "Op", "Out", "TorchEmit", "arg", "get_op", "register"]
