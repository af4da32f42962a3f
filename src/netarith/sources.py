"""Where a network comes from: notation text, a file, a zoo name, a model file.

:func:`load` turns any source into a :class:`Graph`. Model files are read by the
importer registered for their suffix; importers load their framework only when
called, so ``import netarith`` stays light.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence

from .errors import SourceError, did_you_mean
from .graph import Graph
from .notation import parse
from .shape import Shape

__all__ = ["LOADERS", "MAX_TEXT_BYTES", "Source", "load"]

Source = Graph | str | os.PathLike[str]

#: Importers by file suffix: "module:function" taking a Path (and, if given, ``input=``
#: the per-sample input shape the user asked for) and returning a Graph.
LOADERS: dict[str, str] = {
    ".onnx": "netarith.importers.onnx:load",
    ".prototxt": "netarith.importers.caffe:load",
    ".cfg": "netarith.importers.cudaconvnet:load",
}

#: Notation files larger than this are refused before reading (a 10 MB file is fine).
MAX_TEXT_BYTES = 64 * 1024 * 1024

_NOTATION_SUFFIXES = {".net", ".txt", ".nota", ""}


def load(source: Source, input: str | Shape | Sequence[int] | None = None) -> Graph:
    """Resolve a source into a Graph.

    A string is, in this order: notation (it has a newline or ``|``), an existing
    file, a zoo model name, a ``package.module:factory`` (PyTorch), else notation.
    ``input`` is handed to model-file importers, which need it where the file leaves
    the input size open (ONNX symbolic sizes, cuda-convnet); callers still resize the
    graph with :meth:`Graph.with_input` afterwards.
    A PyTorch factory is read by running it, so it needs ``input`` too.
    """
    if isinstance(source, Graph):
        return source
    if isinstance(source, os.PathLike):
        return _load_file(source, input)
    if not isinstance(source, str):
        raise SourceError(f"cannot read a network from {type(source).__name__}")
    text = source
    if "\n" in text or "|" in text:
        return parse(text)
    stripped = text.strip()
    if not stripped:
        raise SourceError("empty source: give notation, a file or a zoo model name")
    if len(stripped) < 4096 and os.path.isfile(stripped):
        return _load_file(stripped, input)
    zoo = _zoo_lookup(stripped)
    if zoo is not None:
        return zoo
    if _looks_like_factory(stripped):
        return _call_loader("netarith.importers.torch:load_factory", stripped, input)
    if _looks_like_path(stripped):
        raise SourceError(f"no such file: {stripped!r}")
    if " " not in stripped and not any(ch.isdigit() for ch in stripped[:1]):
        hint = _zoo_hint(stripped)
        raise SourceError(
            f"{stripped!r} is not a file, a zoo model or notation{hint}; "
            "try 'netarith zoo' for the model names"
        )
    return parse(text)


def _load_file(name: str | os.PathLike[str], input: str | Shape | Sequence[int] | None = None) -> Graph:
    from pathlib import Path  # here, not above: a zoo name or notation needs no paths (start-up time)

    path = Path(name)
    if not path.is_file():
        raise SourceError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is not None:
        return _call_loader(loader, path, input)
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise SourceError(f"{path}: {size:,} bytes is too large for a notation file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"{path}:{line}: not UTF-8 text (byte {exc.start}); is this a binary file?"
            + (f" Files ending in {suffix} are not a known model format." if suffix not in _NOTATION_SUFFIXES else "")
        ) from None
    graph = parse(text, source=str(path))
    if graph.name is None:
        graph = graph.replace(name=path.stem)
    return graph


def _call_loader(spec: str, arg: object, input: object = None) -> Graph:
    module, _, func = spec.partition(":")
    loader: Callable[..., Graph] = getattr(importlib.import_module(module), func)
    if input is None:
        return loader(arg)
    return loader(arg, input=str(Shape.parse(input)))  # type: ignore[arg-type]


def _zoo_lookup(name: str) -> Graph | None:
    try:
        from . import zoo
    except ImportError:  # pragma: no cover - the zoo is part of the package
        return None
    if zoo.exists(name):
        return zoo.build(name)
    return None


def _zoo_hint(name: str) -> str:
    try:
        from . import zoo
    except ImportError:  # pragma: no cover
        return ""
    return did_you_mean(name, zoo.names())


def _looks_like_factory(text: str) -> bool:
    module, sep, func = text.partition(":")
    return bool(sep) and bool(module) and func.isidentifier() and all(
        part.isidentifier() for part in module.split(".")
    )


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.endswith((".net", ".onnx", ".prototxt", ".cfg", ".yaml", ".txt"))
