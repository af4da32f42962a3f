"""Reading a meta-device module: a record in eval mode (at batch 2 and 3: one pass, or two if
the model's code sees the batch), one more in training mode for layers eval mode skips, then
the graph."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from torch import nn

from ..errors import NetarithError, SourceError
from ..graph import Graph
from ..ops.base import make
from ..shape import Shape
from ._torch_convert import Converter, Val
from ._torch_handlers import HANDLERS
from ._torch_modules import Inferred, base_class, counts_alike, module_op, parameters
from ._torch_trace import Event, Index, Module, NeedsCopy, Trace, Whole, record

__all__ = ["read"]


def _capture(module: nn.Module, full: tuple[int, ...], infer: Inferred,
             firsts: dict[tuple[int, ...], Val]) -> Whole | None:
    """Read this module, given an input of shape ``full``, as one layer? Only if netarith's op
    counts its parameters alike. ``firsts``: the inputs seen, as Vals."""
    if base_class(module) is None:  # most modules: containers, blocks, the model itself
        return None
    if len(full) < 2:
        return None
    # the op as the converter makes it for an input whose first axis is the batch alone
    batch_first = firsts.get(full)
    if batch_first is None:
        batch_first = firsts[full] = Val("", Shape(full[1:]), full, 0, True)
    op = module_op(module, batch_first.shape, batch_first.nd)
    if op is None:
        return None
    params = parameters(module)
    return Whole(op, tuple(id(p) for p in params)) if counts_alike(module, op, batch_first.shape, infer, params) \
        else None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a model is read. A read makes tens of thousands
    of objects, kept until it ends; the collections they set off walk them again and again, and
    at times every object of the process (hundreds of thousands where a framework and a large
    model are loaded): 2 of the 38 ms of a ResNet-152 read. Cycles it leaves are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read(torch: ModuleType, module: nn.Module, shape: Shape, name: str,
         guard: bool = False) -> tuple[Graph, dict[str, str], tuple[str, ...]]:
    """The graph, each leaf module call's output node, and notes on calls made opaque.
    ``guard``: the module's tensors may be real; :class:`NeedsCopy` if PyTorch must read one."""
    with _collector_paused():
        return _read(torch, module, shape, name, guard)


def _read(torch: ModuleType, module: nn.Module, shape: Shape, name: str,
          guard: bool) -> tuple[Graph, dict[str, str], tuple[str, ...]]:
    index = Index.of(module)
    reserved = {path for path in index.paths.values() if path}
    was_training = module.training
    modes = set(index.modes)
    # Whether to read a module whole depends on the module and its input's shape per sample
    # (the same at every batch): decided once for all the records.
    decided: dict[tuple[nn.Module, tuple[int, ...]], Whole | None] = {}
    infer = Inferred()
    firsts: dict[tuple[int, ...], Val] = {}

    def capture(m: nn.Module, x: Any) -> Whole | None:
        full = tuple(x.shape)
        key = (m, full[1:])
        try:
            return decided[key]
        except KeyError:
            whole = decided[key] = _capture(m, full, infer, firsts)
            return whole

    def trace(batch: int, training: bool, twins: bool = False) -> Trace:
        if modes != {training}:  # train() walks every module: only when one is in the other mode
            module.train(training)
            modes.clear()
            modes.add(training)
        x = torch.empty(batch, *shape.dims, device="meta")
        x3 = torch.empty(3, *shape.dims, device="meta") if twins else None
        try:
            return record(module, x, capture, reserved, guard, index, x3)
        except (NetarithError, NeedsCopy):
            raise
        except Exception as exc:
            raise SourceError(
                f"running {name} on a {shape} input (batch {batch}, meta device) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    def both(training: bool) -> Trace:
        """A record at batch 2 with each output's shape at batch 3 too: from one pass with
        twins, or from a second pass if the model's code saw the batch in the first."""
        t = trace(2, training, twins=True)
        if t.diverged:
            _merge(t, trace(3, training))
        return t

    try:
        t2 = both(False)
        cv = Converter(HANDLERS, infer)
        cv.run(t2)
        leaves = {call: val.node for call, ref in t2.leaves.items() if (val := cv.made(ref)) is not None}
        paths = {i: path for i, (path, role) in index.params.items() if role == "learned"}
        missing = set(paths.values()) - _used(t2, paths, cv)
        if missing:
            u2 = both(True)
            ran = t2.ran

            def aux(e: Event) -> bool:
                own = e.name.partition("@")[0] if isinstance(e, Module) else ""
                return any(s not in ran for s in e.scopes) or (bool(own) and own not in ran)

            cv.train_only = True
            cv.run(u2, aux)
            cv.train_only = False
            missing -= _used(u2, paths, cv)
        params = dict(module.named_parameters()) if missing else {}
        for path in sorted(missing):
            cv.add(path, make("tensor", shape=Shape(tuple(params[path].shape) or (1,)), role="learned"),
                   [], "tensor")
            cv.notes.append(f"{path}: a parameter the forward pass never reads")
    finally:
        if modes != {was_training}:
            module.train(was_training)
    return Graph(tuple(cv.nodes), name), leaves, tuple(cv.notes)


def _merge(t: Trace, t3: Trace) -> None:
    """Each event of ``t`` (batch 2) given its outputs' shapes in ``t3`` (batch 3)."""
    if len(t.events) != len(t3.events):
        raise SourceError("the model runs differently at batch 2 and batch 3; netarith needs one graph")
    for e, e3 in zip(t.events, t3.events):
        if e.name != e3.name or type(e) is not type(e3):
            raise SourceError(f"the model runs differently at batch 2 and 3 ({e.name} vs {e3.name})")
        e.outputs3 = e3.outputs


def _used(t: Trace, paths: dict[int, str], cv: Converter) -> set[str]:
    return {paths[i] for i in t.counted if i in paths} | cv.used
