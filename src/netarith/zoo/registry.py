"""The zoo's registry: ``@register`` a builder function under a unique name.

Family modules in this package are imported on first use (found by listing the
package, so a new family is one new file). Names are unique; unknown names get
the closest suggestion.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import NetarithError, SourceError, did_you_mean
from ..graph import Graph

__all__ = ["ZooEntry", "build", "entries", "exists", "get", "names", "register"]


@dataclass(frozen=True)
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
_loaded = False


def register(name: str, *, family: str, input: str, source: str,
             description: str = "") -> Callable[[Callable[[], Graph]], Callable[[], Graph]]:
    """Decorator: register a function that returns the model's Graph."""

    def wrap(fn: Callable[[], Graph]) -> Callable[[], Graph]:
        if name in _REGISTRY:
            raise NetarithError(f"zoo model {name!r} is registered twice")
        _REGISTRY[name] = ZooEntry(name, family, input, source, fn, description or (fn.__doc__ or "").strip())
        return fn

    return wrap


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = __name__.rpartition(".")[0]
    path = importlib.import_module(package).__path__
    for info in pkgutil.iter_modules(path):
        if info.name not in ("registry",) and not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


def exists(name: str) -> bool:
    _load_all()
    return name in _REGISTRY


def names() -> list[str]:
    _load_all()
    return list(_REGISTRY)


def entries() -> list[ZooEntry]:
    _load_all()
    return list(_REGISTRY.values())


def get(name: str) -> ZooEntry:
    _load_all()
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
