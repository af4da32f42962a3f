"""Recording one forward pass of a PyTorch model on the meta device.

The importer needs every tensor's shape at two batch sizes (2 and 3) to tell the batch axis
from the others. One pass gives both: the model runs on the batch-2 input, and each call it
makes is also made on the batch-3 twins of its tensors (see :class:`Recorder`), so the model's
Python code, the module hooks and the recording run once. That holds while the model's code
sees nothing that depends on the batch: a call whose result is not a tensor (``x.shape``,
``x.size(0)``, ``len(x)``) and differs between the twins, or a tensor that did not come from a
recorded call, ends the twins (``Trace.diverged`` says why), and the importer records a
second pass at batch 3, as the model's code may then do something else at batch 3.

A :class:`Recorder` runs the model under a ``TorchFunctionMode`` (which sees every
call of the PyTorch API made in Python: ``F.relu``, ``torch.cat``, ``x + y``,
``x.view``...) with hooks on every module. Modules netarith knows as a whole
(``nn.Conv2d``, ``nn.BatchNorm2d``...) are recorded as one event under their
module path and the calls inside them are not; everything else is recorded call
by call under the path of the module that made it. Tensors are followed by
identity, so each event knows which earlier events (or which parameters) its
inputs came from. Nothing is computed: meta tensors have shapes, no data.

Only this module, the converter and the importer import torch.
"""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .._values import field, frozen, mutable
from ..ops.base import Op
from ._torch_meta import made

__all__ = ["Call", "Capture", "Event", "Index", "Module", "NeedsCopy", "Recorder", "Ref", "Source", "Trace", "Whole",
           "readable"]


@frozen
class Ref:
    """Output ``index`` of event number ``event``."""

    event: int
    index: int = 0


@mutable
class Event:
    """Something that produced tensors: its name, where it ran, its outputs' full shapes
    at batch 2 and at batch 3."""

    name: str
    scopes: tuple[str, ...]  # paths of the modules running, outermost first
    outputs: list[tuple[int, ...]] = field(default_factory=list)
    outputs3: list[tuple[int, ...]] = field(default_factory=list)


@mutable
class Source(Event):
    """A tensor no recorded call produced: the input, a parameter, a buffer, a constant."""

    role: str = "constant"  # input | learned | buffer | constant
    path: str = ""


@mutable
class Module(Event):
    """A call of a module netarith reads as a whole."""

    module: nn.Module | None = None
    inputs: tuple[Ref, ...] = ()
    op: Op | None = None  # the op it becomes on an input with the batch first and alone


@mutable
class Call(Event):
    """A call of a PyTorch function or tensor method; tensors in args replaced by Refs."""

    func: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    operator: str | None = None  # "+", "@", "+=" when written as an operator, not a method call
    within: str = ""  # the class of the leaf module (one without children) the call ran in


@mutable
class Trace:
    """The events of one forward pass and what the importer needs besides."""

    events: list[Event]
    output: Any  # the model's output, tensors replaced by Refs
    ran: set[str]  # paths of the modules that ran
    leaves: dict[str, Ref]  # call name of each leaf module ("path", "path@2") -> its output
    counted: set[int]  # ids of parameters read by whole-module events
    diverged: str = ""  # why the batch-3 twins ended ("" if they ran to the end, or never ran)


@frozen
class Index:
    """What every record of one model reads of it, gathered once for them all."""

    params: dict[int, tuple[str, str]]  # id of each parameter and buffer -> (path, learned | buffer)
    paths: dict[int, str]  # id of each module -> its path
    leaf_names: dict[int, str]  # id -> class name, of the modules without children
    own_hooks: bool  # a module has forward hooks of its own
    modes: frozenset[bool]  # the modules' ``training`` flags

    @staticmethod
    def of(model: nn.Module) -> Index:
        # One walk of the modules, reading each one's own tables: what named_parameters() and
        # named_buffers() give (the first path of each tensor), without two more walks.
        params: dict[int, tuple[str, str]] = {}
        buffers: dict[int, tuple[str, str]] = {}
        paths: dict[int, str] = {}
        leaf_names: dict[int, str] = {}
        hooks = False
        modes = set()
        for path, m in model.named_modules():
            prefix = f"{path}." if path else ""
            for name, p in m._parameters.items():
                if p is not None and id(p) not in params:
                    params[id(p)] = (prefix + name, "learned")
            for name, b in m._buffers.items():
                if b is not None and id(b) not in buffers:
                    buffers[id(b)] = (prefix + name, "buffer")
            paths[id(m)] = path
            if all(child is None for child in m._modules.values()):  # no children (None is not one)
                leaf_names[id(m)] = type(m).__name__
            hooks = hooks or bool(m._forward_hooks or m._forward_pre_hooks)
            modes.add(m.training)
        for i, entry in buffers.items():
            params.setdefault(i, entry)
        return Index(params, paths, leaf_names, hooks, frozenset(modes))


@frozen
class Whole:
    """A module read as one layer: its op (on an input with the batch first and alone), and
    the ids of its parameters."""

    op: Op
    ids: tuple[int, ...]


#: (module, its input) -> how it is read as one layer, or None (call by call)
Capture = Callable[[nn.Module, torch.Tensor], "Whole | None"]


def readable(func: Any) -> str:
    """A short name for a PyTorch callable: ``relu``, ``add``, ``getitem``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":
        name = getattr(getattr(func, "__self__", None), "__name__", "get")
    name = name.strip("_")  # add_ (in place), __add__
    if name[:1] in ("i", "r") and name[1:] in ("add", "mul", "sub", "truediv", "matmul", "and", "or"):
        name = name[1:]  # __iadd__, __radd__
    return _SHORT.get(name, name or "call")


_SHORT = {"truediv": "div", "scaled_dot_product_attention": "attention",
          "multi_head_attention_forward": "attention"}


_T = torch.Tensor
_ARITHMETIC = {_T.add, _T.add_, _T.sub, _T.sub_, _T.mul, _T.mul_, _T.div, _T.div_, _T.matmul, _T.pow,
               _T.__rsub__, _T.__rtruediv__, _T.__truediv__, _T.__itruediv__, _T.__matmul__, _T.__rmatmul__,
               _T.__and__, _T.__or__, _T.__pow__, _T.__rpow__, _T.__neg__, _T.__eq__, _T.__ne__,
               _T.__lt__, _T.__le__, _T.__gt__, _T.__ge__, _T.__mod__, _T.__floordiv__}
#: Python 3.10 has one opcode per operator; 3.11 has BINARY_OP with the operator as its argument
_OPCODES = {"BINARY_ADD": "+", "INPLACE_ADD": "+=", "BINARY_MULTIPLY": "*", "INPLACE_MULTIPLY": "*=",
            "BINARY_SUBTRACT": "-", "INPLACE_SUBTRACT": "-=", "BINARY_TRUE_DIVIDE": "/",
            "INPLACE_TRUE_DIVIDE": "/=", "BINARY_MATRIX_MULTIPLY": "@", "INPLACE_MATRIX_MULTIPLY": "@=",
            "BINARY_POWER": "**", "UNARY_NEGATIVE": "-", "COMPARE_OP": "compare"}


def _operator(frame: Any) -> str | None:
    """The operator the instruction being run in ``frame`` applies, if it is one."""
    code, i = frame.f_code.co_code, frame.f_lasti
    if not 0 <= i < len(code):
        return None
    name = dis.opname[code[i]]
    if name == "BINARY_OP":
        ops = getattr(dis, "_nb_ops", None)
        return str(ops[code[i + 1]][1]) if ops and code[i + 1] < len(ops) else "op"
    return _OPCODES.get(name)


class NeedsCopy(Exception):
    """A call PyTorch must run reads a tensor of the model that is not on the meta device: the
    model is read again from a copy on the meta device (see ``torch.meta_copy``)."""


def _call(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], guard: bool = False) -> Any:
    """``func(*args, **kwargs)``; the output of a normalisation, an activation, a convolution...
    is made from its arguments' shapes where PyTorch's meta kernel would be slow or could not
    take the model's own weights (see ``_torch_meta``). With ``guard``, a call left to PyTorch
    that would read one of the model's real tensors raises :class:`NeedsCopy` before it runs:
    its output would not be the one it has on the meta device (nor would it be fast)."""
    out = made(func, args, kwargs)
    if out is not None:
        return out
    if guard and _reads_real(func, args, kwargs):
        raise NeedsCopy(readable(func))
    return func(*args, **kwargs)


#: what a call may read of a real tensor: its metadata, alike on the meta device (its device is not)
_METADATA = {_T.dim, _T.size, _T.numel, _T.is_floating_point, _T.__len__, _T.stride, _T.is_contiguous,
             _T.element_size}
_ATTRIBUTES = {_T.shape, _T.dtype, _T.ndim, _T.requires_grad}


def _reads_real(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    if func in _METADATA or getattr(func, "__self__", None) in _ATTRIBUTES:
        return False
    return any(not t.is_meta for t in _tensors(args)) or any(not t.is_meta for t in _tensors(kwargs))


#: turns off every __torch_function__, the mode's included (reading a shape through it costs 2 us)
_plain = torch._C.DisableTorchFunction


def _tensors(value: Any) -> list[torch.Tensor]:
    """The tensors in ``value`` (nested in lists, tuples and dicts), in order."""
    if isinstance(value, torch.Tensor):  # most calls take and give one tensor first
        return [value]
    found: list[torch.Tensor] = []
    _collect(value, found)
    return found


def _collect(value: Any, found: list[torch.Tensor]) -> None:
    if isinstance(value, torch.Tensor):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)


def _first(value: Any) -> torch.Tensor | None:
    """The first tensor in ``value``, if any."""
    if isinstance(value, tuple) and value and isinstance(value[0], torch.Tensor):
        return value[0]  # a module's arguments, most often
    tensors = _tensors(value)
    return tensors[0] if tensors else None


def _pairs(a: Any, b: Any) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """The tensors of a call's result and of its twin's, paired; None if anything else in them
    differs (a size, a count of outputs): the model's code would see the batch in it."""
    if isinstance(a, torch.Tensor):
        return [(a, b)] if isinstance(b, torch.Tensor) else None
    if isinstance(a, dict):
        if type(a) is not type(b) or a.keys() != b.keys():
            return None
        return _pairs(list(a.values()), [b[k] for k in a])
    if isinstance(a, (list, tuple)) and not isinstance(a, torch.Size):
        if type(a) is not type(b) or len(a) != len(b):
            return None
        found: list[tuple[torch.Tensor, torch.Tensor]] = []
        for x, y in zip(a, b):
            pairs = _pairs(x, y)
            if pairs is None:
                return None
            found += pairs
        return found
    try:
        return [] if type(a) is type(b) and bool(a == b) else None
    except Exception:  # an object that cannot say whether it equals the other
        return None


class Recorder(TorchFunctionMode):
    """Records one forward pass; see the module docstring. With twins (``add_input(x, x3=...)``),
    every tensor the model holds has its batch-3 twin in ``twins``; a tensor of the model's
    own (a parameter, a buffer) is its own twin."""

    def __init__(self, model: nn.Module, capture: Capture,
                 reserved: set[str], guard: bool = False, index: Index | None = None) -> None:
        super().__init__()
        index = index or Index.of(model)
        self.model = model
        self.guard = guard  # the model's tensors may be real: see NeedsCopy
        self.copy_needed = False
        self.capture = capture
        self.events: list[Event] = []
        self.producer: dict[int, Ref] = {}
        self.alive: list[Any] = []  # keeps every seen tensor alive, so ids stay unique
        self.params = index.params  # id -> (path, role)
        self.own_hooks = index.own_hooks
        self.reserved = reserved  # module paths: kept free for the modules' own nodes
        self.names: set[str] = set()
        self.calls: dict[str, int] = {}
        self.stack: list[str] = []
        self.leaf_class: list[str] = []  # per stack entry: the module's class if it has no children
        self.capturing = 0
        self.busy = False
        self.ran: set[str] = set()
        self.leaves: dict[str, Ref] = {}
        self.counted: set[int] = set()
        self.handles: list[Any] = []
        self.paths = index.paths
        self.leaf_names = index.leaf_names  # id -> class name, of the modules without children
        self._starts: list[int] = []
        self._pending: tuple[nn.Module, tuple[Ref, ...], Op] | None = None
        # id of each tensor seen -> (the tensor, its batch-3 twin): the tensor is held so
        # that its id is not reused. None when not recording twins, or no longer.
        self.twins: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = None
        self.diverged = ""

    # -- names -------------------------------------------------------------
    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self.names or name in self.reserved:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def scope(self) -> str:
        return self.stack[-1] if self.stack else ""

    # -- tensors -----------------------------------------------------------
    def ref(self, t: torch.Tensor) -> Ref:
        known = self.producer.get(id(t))
        if known is not None:
            return known
        path, role = self.params.get(id(t), ("", "constant"))
        if role == "constant":
            scope = self.scope()
            name = self.unique(f"{scope}.constant" if scope else "constant")
        else:
            name = path
            self.names.add(name)
        # a constant made by a call the mode did not see (or before the pass) may hold the batch
        t3 = self.twin(t)
        shape = tuple(t.shape)
        shape3 = shape if t3 is None else tuple(t3.shape)
        self.events.append(Source(name, tuple(self.stack), [shape], [shape3], role, path))
        return self.produced(t, Ref(len(self.events) - 1))

    def produced(self, t: torch.Tensor, ref: Ref) -> Ref:
        self.producer[id(t)] = ref
        self.alive.append(t)
        return ref

    def swap(self, value: Any) -> Any:
        """``value`` with each tensor replaced by its Ref (lists and tuples kept)."""
        if isinstance(value, torch.Tensor):
            return self.ref(value)
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            items = [self.swap(v) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict):
            return {k: self.swap(v) for k, v in value.items()}
        return value

    def add_input(self, x: torch.Tensor, name: str, x3: torch.Tensor | None = None) -> None:
        """The model's input; ``x3``: the same at batch 3, made to follow ``x`` through the pass."""
        self.names.add(name)
        if x3 is not None:
            self.twins = {id(x): (x, x3)}
        self.events.append(Source(name, (), [tuple(x.shape)], [tuple((x if x3 is None else x3).shape)], "input"))
        self.produced(x, Ref(len(self.events) - 1))

    # -- twins ---------------------------------------------------------------
    def diverge(self, why: str) -> None:
        """End the twins: the model's code saw something that depends on the batch."""
        if self.twins is not None:
            self.twins = None
            self.diverged = why

    def twin(self, t: torch.Tensor) -> torch.Tensor | None:
        """The batch-3 twin of ``t`` (None once the twins have ended)."""
        if self.twins is None:
            return None
        pair = self.twins.get(id(t))
        if pair is not None:
            return pair[1]
        if id(t) in self.params:
            return t
        self.diverge("a tensor no recorded call made")
        return None

    def _twin_args(self, value: tuple[Any, ...] | list[Any]) -> tuple[Any, bool]:
        """``value`` with each tensor replaced by its twin, and whether any twin differs."""
        twins = self.twins or {}
        changed = False
        items = []
        for v in value:
            if isinstance(v, torch.Tensor):
                pair = twins.get(id(v))
                t3 = pair[1] if pair is not None else self.twin(v)
                changed = changed or t3 is not v
                v = t3
            elif isinstance(v, (list, tuple, dict)) and not isinstance(v, torch.Size):
                if isinstance(v, dict):
                    values, c = self._twin_args(list(v.values()))
                    v = dict(zip(v, values))
                else:
                    v, c = self._twin_args(v)
                changed = changed or c
            items.append(v)
        return items if isinstance(value, list) else tuple(items), changed

    def _follow(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        """Make the call on the twins of its tensors, and pair its outputs with their twins."""
        args3, changed = self._twin_args(args)
        kwargs3 = kwargs
        if kwargs:
            values, changed_kw = self._twin_args(list(kwargs.values()))
            kwargs3, changed = dict(zip(kwargs, values)), changed or changed_kw
        if self.twins is None:
            return
        if not changed:  # the same call: its outputs are their own twins
            for t in _tensors(result):
                self.twins[id(t)] = (t, t)
            return
        try:
            result3 = self._run(func, args3, kwargs3)
        except NeedsCopy:
            raise
        except Exception:  # the second pass, at batch 3 alone, says what is wrong, if anything is
            self.diverge(f"{readable(func)}: failed at batch 3")
            return
        pairs = _pairs(result, result3)
        if pairs is None:
            self.diverge(f"{readable(func)}: a result that depends on the batch")
            return
        for t, t3 in pairs:
            self.twins[id(t)] = (t, t3)

    def shapes3(self, outs: list[torch.Tensor]) -> list[tuple[int, ...]]:
        """The batch-3 shapes of ``outs`` ([] once the twins have ended)."""
        twins = [self.twin(t) for t in outs]
        return [] if self.twins is None else [tuple(t.shape) for t in twins if t is not None]

    # -- hooks ---------------------------------------------------------------
    def install(self) -> None:
        """Hooks on the model's modules: PyTorch's global hooks (two, for every module, which
        cost less than a pair on each) filtered to the model's, unless one of its modules has
        hooks of its own: ours then go on each module, after them, where they run after them."""
        if self.own_hooks:
            for module in self.model.modules():
                self.handles.append(module.register_forward_pre_hook(self._enter, with_kwargs=True))
                self.handles.append(module.register_forward_hook(self._leave, with_kwargs=True, always_call=True))
            return
        from torch.nn.modules import module as base

        self.handles.append(base.register_module_forward_pre_hook(self._enter_own))
        self.handles.append(base.register_module_forward_hook(self._leave_own, with_kwargs=True, always_call=True))

    def _enter_own(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if id(module) in self.paths:  # not a module made in forward, nor another model's
            self._enter(module, args, {})

    def _leave_own(self, module: nn.Module, args: tuple[Any, ...], *rest: Any) -> None:
        # (kwargs, output); only (output) when forward raised: PyTorch then leaves kwargs out
        if id(module) in self.paths:
            self._leave(module, args, {}, rest[-1])

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _enter(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.capturing:
            self.capturing += 1
            return
        self.busy = True
        try:
            with _plain():  # the hook's own reads of shapes need not go through the mode
                self._open(module, args)
        finally:
            self.busy = False

    def _open(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        path = self.paths.get(id(module), type(module).__name__)
        self.ran.add(path)
        first = _first(args)
        self.stack.append(path)
        self.leaf_class.append(self._leaf_name(module))
        own = self.capture(module, first) if first is not None else None
        if first is not None and self.twins is not None:
            first3 = self.twin(first)
            # decided per sample: the twin's input gives the same, unless its batch is not first
            if first3 is not None and first3.shape[1:] != first.shape[1:] and \
                    self.capture(module, first3) != own:
                self.diverge(f"{path}: read whole at one batch size only")
        if own is not None and self.counted.isdisjoint(own.ids):
            inputs = tuple(self.ref(t) for t in _tensors(args))
            self.counted.update(own.ids)
            self.capturing = 1
            self._pending = (module, inputs, own.op)
        self._starts.append(len(self.events))

    def _leaf_name(self, module: nn.Module) -> str:
        """The module's class name if it has no children, else ''."""
        name = self.leaf_names.get(id(module))
        if name is None:  # a module the model does not hold as a child: made in forward
            name = "" if next(module.children(), None) is not None else type(module).__name__
        return name

    def _call_name(self, path: str) -> str:
        n = self.calls.get(path, 0) + 1
        self.calls[path] = n
        return path if n == 1 else f"{path}@{n}"

    def _leave(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        if self.capturing > 1:
            self.capturing -= 1
            return
        self.busy = True
        try:
            with _plain():
                self._close(module, output)
        finally:
            self.busy = False

    def _close(self, module: nn.Module, output: Any) -> None:
        path = self.stack.pop()
        leaf = bool(self.leaf_class.pop())
        start = self._starts.pop()
        call = self._call_name(path or type(module).__name__.lower())
        if self.capturing == 1 and self._pending is not None:
            self.capturing = 0
            mod, inputs, op = self._pending
            self._pending = None
            self.names.add(call)
            outs = _tensors(output)
            self.events.append(Module(call, tuple(self.stack), [tuple(t.shape) for t in outs],
                                      self.shapes3(outs), mod, inputs, op))
            for i, t in enumerate(outs):
                self.produced(t, Ref(len(self.events) - 1, i))
        elif leaf:
            self._name_leaf(call, start, output)
        out = _first(output)
        if out is not None and leaf:
            self.leaves[call] = self.ref(out)

    def _name_leaf(self, call: str, start: int, output: Any) -> None:
        """A leaf module traced call by call that made one event: give it the module's name."""
        made = [i for i in range(start, len(self.events)) if isinstance(self.events[i], Call)]
        out = _first(output)
        if len(made) != 1 or out is None or self.producer.get(id(out)) != Ref(made[0]):
            return
        event = self.events[made[0]]
        if call in self.names:
            return
        self.names.discard(event.name)
        self.names.add(call)
        event.name = call

    # -- calls ---------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if self.busy:
            return _call(func, args, kwargs)
        if func in _METADATA or getattr(func, "__self__", None) in _ATTRIBUTES:
            return self._read(func, args, kwargs)
        if self.capturing:
            result = self._run(func, args, kwargs)
            if self.twins is not None:
                self._follow(func, args, kwargs, result)
            return result
        # C methods call the mode straight from the model's frame: was it `x + y` or `x.add(y)`?
        operator = _operator(sys._getframe(1)) if func in _ARITHMETIC else None
        result = self._run(func, args, kwargs)
        if self.twins is not None:
            self._follow(func, args, kwargs, result)
        outs = _tensors(result)
        if func is torch.Tensor.__setitem__:
            outs = [args[0]]
        if not outs:
            return result
        self.busy = True
        try:
            self._record(func, args, kwargs, outs, operator)
        finally:
            self.busy = False
        return result

    def _read(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``x.dim()``, ``x.shape``...: no tensor made, nothing recorded, nothing for PyTorch to
        compute (what ``_call`` would do: no rule, no guard); compared with the twin's, as any
        result the model's code sees (BatchNorm checks its input's dim() at every call)."""
        result = func(*args, **kwargs)
        x = args[0] if args else None
        if self.twins is not None and isinstance(x, torch.Tensor):
            x3 = self.twin(x)
            if x3 is not x and x3 is not None:
                try:
                    same = _pairs(result, func(x3, *args[1:], **kwargs)) is not None
                except Exception:
                    same = False
                if not same:
                    self.diverge(f"{readable(func)}: a result that depends on the batch")
        return result

    def _run(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return _call(func, args, kwargs, self.guard)
        except NeedsCopy:
            self.copy_needed = True  # in case the model catches the exception
            raise

    def _record(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], outs: list[torch.Tensor],
                operator: str | None = None) -> None:
        swapped_args = self.swap(args)
        swapped_kwargs = self.swap(kwargs)
        scope = self.scope()
        op = readable(func)
        name = self.unique(f"{scope}.{op}" if scope else op)
        within = self.leaf_class[-1] if self.leaf_class else ""
        self.events.append(Call(name, tuple(self.stack), [tuple(t.shape) for t in outs], self.shapes3(outs), func,
                                tuple(swapped_args), dict(swapped_kwargs), operator, within))
        for i, t in enumerate(outs):
            self.produced(t, Ref(len(self.events) - 1, i))


def record(model: nn.Module, x: torch.Tensor, capture: Capture, reserved: set[str], guard: bool = False,
           index: Index | None = None, x3: torch.Tensor | None = None) -> Trace:
    """Run ``model(x)`` once under a :class:`Recorder` (``guard``: see :class:`NeedsCopy`); with
    ``x3``, each call is also made on the batch-3 twins (see the module docstring)."""
    recorder = Recorder(model, capture, reserved, guard, index)
    recorder.add_input(x, "input", x3)
    recorder.install()
    try:
        with torch.no_grad(), recorder:
            output = model(x)
        recorder.busy = True
        swapped = recorder.swap(output)
    finally:
        recorder.remove()
    if recorder.copy_needed:  # the model caught NeedsCopy and went on
        raise NeedsCopy("a call the model caught")
    return Trace(recorder.events, swapped, recorder.ran, recorder.leaves, recorder.counted, recorder.diverged)
