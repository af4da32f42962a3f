"""Layer kinds, one file per family; importing this package registers them all.

Every module here that does not start with ``_`` (and is not ``base``) is an op
family and is imported on first use, so a new family is one new file.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import KINDS, REGISTRY, ArgSpec, Context, Op, Out, TorchEmit, arg, get_op, register

__all__ = ["KINDS", "REGISTRY", "ArgSpec", "Context", "Op", "Out", "TorchEmit", "arg", "get_op", "register"]

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")
