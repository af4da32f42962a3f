"""The zoo's registry: ``@register`` a builder function under a unique name.

Family modules in this package are imported on first use (found by listing the
package, so a new family is one new file). Names are unique; unknown names get
the closest suggestion.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable

from .._values import field, frozen
from ..errors import NetarithError, SourceError, did_you_mean
from ..graph import Graph

__all__ = ["ZooEntry", "build", "entries", "exists", "get", "names", "register"]


@frozen(slots=False)
class ZooEntry:
    """A named network: how to build it, its default input, where it comes from."""

    name: str
    family: str
    input: str
    source: str
    builder: Callable[[], Graph] = field(repr=False)
    description: str = ""

    def build(self) -> Graph:
        return build(self.name)


_REGISTRY: dict[str, ZooEntry] = {}
_pending: list[str] | None = None  # family modules not imported yet (None: not listed yet)


def register(name: str, *, family: str, input: str, source: str,
             description: str = "") -> Callable[[Callable[[], Graph]], Callable[[], Graph]]:
    """Decorator: register a function that returns the model's Graph."""

    def wrap(fn: Callable[[], Graph]) -> Callable[[], Graph]:
        if name in _REGISTRY:
            raise NetarithError(f"zoo model {name!r} is registered twice")
        _REGISTRY[name] = ZooEntry(name, family, input, source, fn, description or (fn.__doc__ or "").strip())
        return fn

    return wrap


def _load(until: str | None = None) -> None:
    """Import the family modules, in name order, until ``until`` is registered (all of them
    when it is None or never registers): looking up one model imports only the families up
    to its own, which keeps the command line's start short."""
    global _pending
    package = __name__.rpartition(".")[0]
    if _pending is None:
        # The directory listed directly: pkgutil.iter_modules would import inspect (5 ms).
        directory = importlib.import_module(package).__path__[0]
        _pending = sorted(entry.name[:-3] for entry in os.scandir(directory)
                          if entry.name.endswith(".py") and entry.name != "registry.py"
                          and not entry.name.startswith("_"))
    while _pending and (until is None or until not in _REGISTRY):
        importlib.import_module(f"{package}.{_pending.pop(0)}")


def exists(name: str) -> bool:
    _load(name)
    return name in _REGISTRY


def names() -> list[str]:
    _load()
    return list(_REGISTRY)


def entries() -> list[ZooEntry]:
    _load()
    return list(_REGISTRY.values())


def get(name: str) -> ZooEntry:
    _load(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SourceError(f"no zoo model named {name!r}{did_you_mean(name, _REGISTRY)}") from None


@functools.lru_cache(maxsize=64)
def build(name: str) -> Graph:
    """The model's Graph (built once, then shared: graphs are immutable)."""
    entry = get(name)
    graph = entry.builder()
    if graph.name is None:
        graph = graph.replace(name=name)
    return graph
