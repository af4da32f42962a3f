"""The model zoo: named networks built with the Python builder, registered by decorator."""

from __future__ import annotations

from .registry import ZooEntry, build, entries, exists, get, names, register

__all__ = ["ZooEntry", "build", "entries", "exists", "get", "names", "register"]
