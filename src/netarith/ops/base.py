"""What every layer kind shares: its arguments, its result, and the registry.

A layer kind is a frozen value class (``@frozen(kw_only=True)``) that subclasses :class:`Op` and is decorated
with :func:`register`. Its fields are its arguments, each declared with
:func:`arg`, which tells the notation how to read and write it (``k3`` or
``kernel=3``) and the constructor how to validate it. Its :meth:`Op.infer` turns
input shapes into an :class:`Out`: output shape, parameters, buffers, MACs,
labelled extra operation counts, warnings, and a receptive-field rule. Its
:meth:`Op.torch` says how to build the same layer in PyTorch.

Adding a kind is one new class in the file of its family; the parser, printer,
analysis, reports and exporter find it through the registry. (``python -m
netarith.ops._index`` then records its family, so that a lookup imports that family
alone; until then it is found by importing them all, and tests/test_ops_index.py
asks for the command.)
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction

from .._values import MISSING, Field, field, fields, frozen, mutable, replace
from ..conventions import Convention
from ..errors import NetarithError, ShapeError, SpecError, did_you_mean
from ..receptive import ELEMENTWISE, RFRule
from ..shape import Shape
from ..sizerules import SizeRule
from ..trace import Trace

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    _O = TypeVar("_O", bound="type[Op]")

__all__ = [
    "REGISTRY",
    "ArgSpec",
    "Context",
    "Op",
    "Out",
    "Padding",
    "TorchEmit",
    "arg",
    "expand",
    "get_op",
    "make",
    "register",
]

Padding = str | tuple[tuple[int, int], ...]  # 'same' | 'valid' | ((before, after), ...)

_MISSING: Any = MISSING


@frozen
class ArgSpec:
    """How one argument is written and what values it accepts.

    ``kind`` is one of: ``int`` (>= ``min``), ``float``, ``ratios`` (exact
    fractions, ``2`` or ``1.5x2``), ``sizes`` (``3`` or ``3x1``), ``ints``
    (a list, may be negative: ``0 2 3 1`` or ``64x-1``), ``padding``, ``bool``,
    ``choice``, ``shape``, ``str`` (a word).
    """

    kind: str
    short: str | None = None
    positional: bool = False
    flags: tuple[tuple[str, Any], ...] = ()
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    min: int = 1
    help: str = ""


def arg(
    kind: str,
    default: Any = _MISSING,
    *,
    short: str | None = None,
    positional: bool = False,
    flags: Mapping[str, Any] | None = None,
    aliases: Sequence[str] = (),
    choices: Sequence[str] = (),
    min: int = 1,
    help: str = "",
) -> Any:
    """Declare a layer argument (a field with its notation)."""
    spec = ArgSpec(
        kind,
        short,
        positional,
        tuple((flags or {}).items()),
        tuple(aliases),
        tuple(choices),
        min,
        help,
    )
    return field(default=default, metadata={"arg": spec})


@frozen
class TorchEmit:
    """PyTorch code for one layer: a module constructor (or None) and a call.

    ``call`` is a format string: ``{m}`` is the module, ``{0}``, ``{1}``... the
    inputs, ``{all}`` all inputs as a list.
    """

    module: str | None
    call: str = "{m}({0})"


_EMPTY: Mapping[str, int] = {}


@frozen
class Out:
    """What one layer computes from its inputs' shapes."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    extras: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    warnings: tuple[str, ...] = ()
    rf: RFRule = ELEMENTWISE
    #: trainable parameters; None means all of ``params`` (fixed weights, e.g. LeNet's RBF, are not)
    trainable: int | None = None
    #: links into the layer's units, bias included (LeNet-5's "connections"); None: MACs + bias adds
    connections: int | None = None
    #: quantities this layer could not count ("macs", "params"): shown as not counted, never as 0
    uncounted: tuple[str, ...] = ()
    #: how each output dim follows from the input dims (closed forms, ``netarith sizes``);
    #: None: the output has its first input's dims (an elementwise layer)
    sizes: SizeRule | None = None


@mutable
class Context:
    """What an op needs besides its inputs: the convention, an optional trace, and a memo where
    the untraced arithmetic that layers share (the windows of a convolution and of the pooling
    beside it) is kept for the rest of one analysis."""

    convention: Convention
    trace: Trace | None = None
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)


class Op:
    """Base of all layer kinds. Subclasses are frozen, keyword-only value classes."""

    # Ops are memo keys of the analysis: a subclass keeps its hash here once computed (_values).
    __slots__ = ("_value_hash",)

    kind: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: (min, max) number of inputs; max None means any number.
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: computes weighted sums of its inputs: counted in totals.neurons (the papers' "neurons").
    weighted: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for f, spec in arg_fields(type(self)):
            value = getattr(self, f.name)
            # A value left at its declared default is valid: tests/test_ops_defaults.py checks
            # every default once; the values given are checked here.
            if value is not f.default:
                _check_value(self.kind, f.name, spec, value)
        self.check()

    def check(self) -> None:
        """Rules that involve several arguments; raise SpecError."""

    def infer(self, ins: Sequence[Shape], ctx: Context) -> Out:
        raise NotImplementedError

    def torch(self, ins: Sequence[Shape], out: Shape, ctx: Context) -> TorchEmit:
        """How to build this layer in PyTorch (used by ``to_torch``)."""
        raise SpecError(f"{self.kind}: no PyTorch equivalent")

    def replace(self, **changes: Any) -> Op:
        return replace(self, **changes)


_arg_cache: dict[type, tuple[tuple[Field, ArgSpec], ...]] = {}


def arg_fields(cls: type) -> tuple[tuple[Field, ArgSpec], ...]:
    """The (field, ArgSpec) pairs of an op class, in declaration order."""
    cached = _arg_cache.get(cls)
    if cached is None:
        cached = tuple(
            (f, f.metadata["arg"]) for f in fields(cls) if "arg" in f.metadata
        )
        _arg_cache[cls] = cached
    return cached


def _check_value(kind: str, name: str, spec: ArgSpec, value: Any) -> None:
    """attrs-style validation: the message names the field, the rule and the value."""
    if value is None:
        return
    where = f"{kind}: '{name}'"
    k = spec.kind
    if k == "int":
        if type(value) is not int:
            raise SpecError(f"{where} must be an integer: {value!r}")
        if value < spec.min:
            raise SpecError(f"{where} must be >= {spec.min}: {value}")
    elif k == "sizes":
        if not isinstance(value, tuple) or not value or any(type(v) is not int for v in value):
            raise SpecError(f"{where} must be one or more integers: {value!r}")
        if min(value) < spec.min:
            raise SpecError(f"{where} must be >= {spec.min}: {_fmt_sizes(value)}")
    elif k == "padding":
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise SpecError(f"{where} must be 'same', 'valid' or sizes: {value!r}")
        else:
            ok = isinstance(value, tuple) and value and all(
                isinstance(p, tuple) and len(p) == 2 and type(p[0]) is int and type(p[1]) is int
                for p in value
            )
            if not ok:
                raise SpecError(f"{where} must be (before, after) pairs: {value!r}")
            if min(map(min, value)) < spec.min:
                raise SpecError(f"{where} must be >= {spec.min}: {value!r}")
    elif k in ("float", "ratio"):
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            raise SpecError(f"{where} must be a number: {value!r}")
        if not math.isfinite(float(value)):
            raise SpecError(f"{where} must be finite: {value!r}")
    elif k == "bool":
        if not isinstance(value, bool):
            raise SpecError(f"{where} must be true or false: {value!r}")
    elif k == "str":
        if not isinstance(value, str) or not value or any(ch.isspace() or ch in "#|" for ch in value):
            raise SpecError(f"{where} must be a word without spaces, '#' or '|': {value!r}")
    elif k == "choice":
        if value not in spec.choices:
            raise SpecError(
                f"{where} must be one of {', '.join(spec.choices)}: {value!r}"
                f"{did_you_mean(str(value), spec.choices)}"
            )
    elif k == "ratios":
        if not isinstance(value, tuple) or not value or any(
            isinstance(v, bool) or not isinstance(v, (int, Fraction)) or v <= 0 for v in value
        ):
            raise SpecError(f"{where} must be positive numbers: {value!r}")
    elif k == "ints":
        if not isinstance(value, tuple) or any(type(v) is not int for v in value):
            raise SpecError(f"{where} must be integers: {value!r}")
    elif k == "shape":
        if not isinstance(value, Shape):
            raise SpecError(f"{where} must be a shape: {value!r}")


def _fmt_sizes(value: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in value)


def expand(kind: str, name: str, value: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """Broadcast a per-axis argument (``k3`` or ``k3x1``) to ``rank`` spatial axes."""
    if len(value) == rank:
        return value
    if len(value) == 1:
        return value * rank
    raise ShapeError(
        f"{kind} '{name}' has {len(value)} values ({_fmt_sizes(value)}) "
        f"but the input has {rank} spatial axes"
    )


def expand_padding(kind: str, value: tuple[tuple[int, int], ...], rank: int) -> tuple[tuple[int, int], ...]:
    if len(value) == rank:
        return value
    if len(value) == 1:
        return value * rank
    raise ShapeError(
        f"{kind} 'padding' has {len(value)} axes but the input has {rank} spatial axes"
    )


class _Kinds(Mapping[str, "type[Op]"]):
    """Layer kind names -> op classes, as the op families register them on import.

    Looking a name up imports the family that defines it (``_index.py`` says which), and
    every family for a name the index does not list; listing the names imports every family.
    So a command imports the families its network uses, not all of them (start-up time).
    """

    def __init__(self) -> None:
        self.known: dict[str, type[Op]] = {}

    def __getitem__(self, name: str) -> type[Op]:
        cls = self.known.get(name)
        if cls is None:
            _load(name)
            cls = self.known[name]  # KeyError: no kind has this name
        return cls

    def __iter__(self) -> Iterator[str]:
        _load(None)
        return iter(self.known)

    def __len__(self) -> int:
        _load(None)
        return len(self.known)


#: every kind and alias -> its class
REGISTRY = _Kinds()
#: canonical kinds only
KINDS = _Kinds()
_everything_loaded = False


def _load(name: str | None) -> None:
    """Import the family that defines ``name``; every family when ``name`` is None or the
    index does not know it (a kind added since the index was written is found that way)."""
    global _everything_loaded
    if _everything_loaded:
        return
    from . import _index

    family = _index.FAMILY_OF.get(name) if name is not None else None
    if family is not None:
        importlib.import_module(f"{__package__}.{family}")
        if name in REGISTRY.known:
            return
    # The directory listed directly: pkgutil.iter_modules would import inspect (5 ms).
    directory = importlib.import_module(__package__).__path__[0]
    for module in sorted(entry.name[:-3] for entry in os.scandir(directory) if entry.name.endswith(".py")):
        if not module.startswith("_") and module != "base":
            importlib.import_module(f"{__package__}.{module}")
    _everything_loaded = True


def register(cls: _O) -> _O:
    """Class decorator: make a layer kind known to the notation and the analysis."""
    for name in (cls.kind, *cls.aliases):
        if not name[:1].isalpha():  # the notation reads a word that starts with a digit as a shape
            raise NetarithError(f"layer kind {name!r} must start with a letter")
        if REGISTRY.known.get(name, cls) is not cls:
            raise NetarithError(f"layer kind {name!r} is registered twice")
        REGISTRY.known[name] = cls
    KINDS.known[cls.kind] = cls
    return cls


def get_op(kind: str) -> type[Op]:
    """The class of a layer kind, with a suggestion when it is unknown."""
    cls = REGISTRY.get(kind) or REGISTRY.get(kind.lower())
    if cls is None:
        raise SpecError(f"unknown kind {kind!r}{did_you_mean(kind.lower(), REGISTRY)}")
    return cls



def make(kind: str, **args: Any) -> Op:
    """An op of ``kind`` from keyword arguments (for importers): ``make("conv", out=64, kernel=(3,))``."""
    cls: Any = get_op(kind)
    op: Op = cls(**args)
    return op
