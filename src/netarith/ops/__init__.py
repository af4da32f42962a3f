"""Layer kinds, one file per family.

Every module here that does not start with ``_`` (and is not ``base``) is an op
family, imported when one of its kinds is first looked up in ``REGISTRY`` (or
when all are listed), so a new family is one new file. ``_index.py`` records
which family defines each kind; it is written by ``python -m netarith.ops._index``
and a test checks it.
"""

from __future__ import annotations

from .base import KINDS, REGISTRY, ArgSpec, Context, Op, Out, TorchEmit, arg, get_op, register

__all__ = ["KINDS", "REGISTRY", "ArgSpec", "Context", "Op", "Out", "TorchEmit", "arg", "get_op", "register"]
