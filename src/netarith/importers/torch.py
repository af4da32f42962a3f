"""Read a PyTorch model without its weights: :func:`from_torch`.

The model is built (from a factory) or copied (from a module) on PyTorch's meta
device, where tensors have shapes and no storage, then run with every call recorded
at batch 2 and at batch 3 (see ``_torch_trace``: one pass where each call is made on
both, two if the model's code sees the batch); the two shapes of each tensor give
its per-sample shape, and each call becomes a node (see ``_torch_convert`` and
``_torch_handlers``). Modules netarith knows (``nn.Conv2d``, ``nn.Linear``,
norms, activations, pooling...) become one node named by their path
(``layer1.0.conv1``); other calls are named after the module that made them and
the function (``layer1.0.add``, ``encoder.layers.encoder_layer_0.self_attention.q``).

The model runs in eval mode. Parameters that eval mode never reads (auxiliary
heads) are found in a second record in training mode: those layers are marked
``train_only``, so their parameters count and their MACs do not.

An operation with no rule becomes an ``opaque`` node: its shape is PyTorch's,
its cost is marked not counted.
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from .._values import frozen
from ..errors import MissingExtraError, NetarithError, SourceError
from ..graph import Graph
from ..shape import Shape

if TYPE_CHECKING:
    from torch import nn

__all__ = ["TorchImport", "build_meta", "from_torch", "load_factory", "trace_torch"]

SizeLike = str | Shape | Sequence[int]


def _torch() -> ModuleType:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch", "reading a PyTorch model") from None
    return torch


@frozen(slots=False)
class TorchImport:
    """A model read from PyTorch: its graph, and which node holds each leaf module's output."""

    graph: Graph
    #: each call of a module without children ("layer1.0.relu", "layer1.0.relu@2") -> node name
    leaves: dict[str, str]
    #: calls that became opaque nodes, and why
    notes: tuple[str, ...]


def from_torch(model: Any, input_size: SizeLike, *, name: str | None = None) -> Graph:
    """Read a PyTorch model (an ``nn.Module`` or a function that builds one) as a Graph,
    without allocating its weights. ``input_size`` is per sample: ``"3x224x224"``.

    >>> import torch.nn as nn
    >>> g = from_torch(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), "3x32x32")
    >>> [(n.name, n.kind) for n in g]
    [('input', 'input'), ('_0', 'conv'), ('_1', 'relu')]

    A Sequential's children are called ``0``, ``1``...; names start with a letter or
    ``_`` in netarith, hence ``_0``.
    """
    return trace_torch(model, input_size, name=name).graph


def load_factory(spec: str, input: SizeLike | None = None) -> Graph:
    """``package.module:factory`` (``torchvision.models:resnet50``) read at ``input``."""
    if input is None:
        raise SourceError(
            f"{spec} is a PyTorch model: give its input shape per sample, e.g. --input 3x224x224"
        )
    module_name, _, attr = spec.partition(":")
    _torch()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceError(f"cannot import {module_name!r} for {spec}: {exc}") from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)  # type: ignore[assignment]
        if factory is None:
            raise SourceError(f"{module_name} has no {attr!r}")
    if not callable(factory):
        raise SourceError(f"{spec} is not callable")
    return trace_torch(factory, input, name=attr).graph


def trace_torch(model: Any, input_size: SizeLike, *, name: str | None = None) -> TorchImport:
    """:func:`from_torch`, with the leaf-module map and the notes on opaque calls."""
    torch = _torch()
    from torch import nn

    from ._torch_reader import read
    from ._torch_trace import NeedsCopy

    shape = Shape.parse(input_size)  # type: ignore[arg-type]
    if isinstance(model, nn.Module):
        name = name or type(model).__name__
        try:
            # The module as it is, its weights untouched: each call that reads them is made
            # from shapes; if PyTorch itself must run one, the module is copied to the meta device.
            graph, leaves, notes = read(torch, model, shape, name, guard=True)
        except NeedsCopy:
            graph, leaves, notes = read(torch, meta_copy(model), shape, name)
    elif callable(model):
        module = build_meta(model)
        name = name or getattr(model, "__name__", None) or type(module).__name__
        graph, leaves, notes = read(torch, module, shape, name)
    else:
        raise SourceError(f"from_torch needs an nn.Module or a function that builds one, got {type(model).__name__}")
    return TorchImport(graph, leaves, notes)


# -- building on the meta device ------------------------------------------------------------

def build_meta(factory: Callable[[], Any]) -> nn.Module:
    """Call ``factory()`` so that the tensors modules create in ``__init__`` live on the
    meta device (no storage), while other computations (torchvision's RegNet works out
    its widths with tensors before building) run on the CPU."""
    _torch()
    from torch import nn

    try:
        with _MetaInit(lambda n: True):
            module = factory()
    except (NotImplementedError, RuntimeError) as exc:
        if "meta" not in str(exc):
            raise SourceError(f"building the model failed: {exc}") from None
        # A module computed with a tensor it made (x.item()): keep small tensors real.
        with _MetaInit(lambda n: n >= 4096):
            module = factory()
    except NetarithError:
        raise
    except Exception as exc:
        raise SourceError(f"building the model failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(module, nn.Module):
        raise SourceError(f"the factory returned {type(module).__name__}, not an nn.Module")
    return meta_copy(module)


def meta_copy(module: nn.Module) -> nn.Module:
    """``module`` itself if all its tensors are on the meta device, else a copy whose
    parameters and buffers are meta tensors of the same shapes (the original is untouched)."""
    torch = _torch()
    from torch import nn

    tensors = [*module.parameters(), *module.buffers()]
    if all(t.is_meta for t in tensors):
        return module
    memo: dict[int, Any] = {}
    for t in tensors:
        if id(t) in memo:
            continue
        empty = torch.empty_like(t, device="meta")
        memo[id(t)] = nn.Parameter(empty, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else empty
    for m in module.modules():
        # A module holds a dozen hook tables, most of them empty: each copy gets new empty
        # ones straight away, as deepcopy would make them, at a fraction of deepcopy's cost.
        for value in m.__dict__.values():
            if type(value) in _FRESH and not value:
                memo[id(value)] = type(value)()
    try:
        twin: nn.Module = copy.deepcopy(module, memo)
    except Exception as exc:
        raise SourceError(
            f"cannot copy the module to read it without its weights ({type(exc).__name__}: {exc}); "
            "pass the function that builds it instead"
        ) from None
    return twin


#: container types whose empty instances are copied as new empty ones
_FRESH = (dict, OrderedDict, set, list)

_INIT_NAMES = ("__init__", "reset_parameters", "_reset_parameters", "_init_weights", "init_weights")


def _in_module_init(frame: FrameType | None) -> bool:
    from torch import nn

    depth = 0
    while frame is not None and depth < 64:
        if frame.f_code.co_name in _INIT_NAMES and isinstance(frame.f_locals.get("self"), nn.Module):
            return True
        frame = frame.f_back
        depth += 1
    return False


def _numel(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    size = kwargs.get("size", args[0] if args else ())
    if isinstance(size, int):
        size = (size, *[a for a in args[1:] if isinstance(a, int)])
    try:
        n = 1
        for d in size:
            n *= int(d)
        return n
    except TypeError:
        return 0


def _mode_class() -> type:
    from torch.overrides import TorchFunctionMode
    from torch.utils._device import _device_constructors

    constructors = _device_constructors()

    class MetaInit(TorchFunctionMode):
        """Tensors made while a module initialises itself go to the meta device."""

        def __init__(self, big_enough: Callable[[int], bool]) -> None:
            super().__init__()
            self.big_enough = big_enough

        def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                               kwargs: dict[str, Any] | None = None) -> Any:
            kwargs = dict(kwargs or {})
            if (func in constructors and kwargs.get("device") is None
                    and _in_module_init(sys._getframe(1)) and self.big_enough(_numel(args, kwargs))):
                kwargs["device"] = "meta"
            return func(*args, **kwargs)

    return MetaInit


def _MetaInit(big_enough: Callable[[int], bool]) -> Any:
    return _mode_class()(big_enough)

