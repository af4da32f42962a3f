"""Value classes that cost little to declare: ``@frozen`` and ``@mutable``.

Why not plain ``@dataclass``: it writes and compiles six methods for every class when the class
is declared, about 0.45 ms each on this project's machines; the eighty value types a command
loads made that a third of netarith's start-up. Here ``dataclasses`` still collects the fields
(so ``dataclasses.field``, ``fields`` and ``replace`` work as usual) but is asked for no method.
Equality, hashing and ``repr`` compare or show a tuple read by one ``operator.attrgetter``; only
``__init__`` is compiled, the first time the class is instantiated, so a class a command never
makes costs nothing.

>>> @frozen
... class Point:
...     x: int
...     y: int = 0
>>> Point(1) == Point(1, 0), Point(2, 3), hash(Point(1)) == hash(Point(1, 0))
(True, Point(x=2, y=3), True)
>>> Point(1).x = 5
Traceback (most recent call last):
dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # the type checker's view; typing has it only from Python 3.11
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda function: function

__all__ = ["frozen", "mutable"]

_C = TypeVar("_C", bound=type)
_MISSING: Any = dataclasses.MISSING
# The default of a parameter whose field has a default_factory: the factory runs when it is seen.
_FACTORY = object()


@overload
def frozen(cls: _C, /) -> _C: ...
@overload
def frozen(*, kw_only: bool = False, slots: bool = True) -> Callable[[_C], _C]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: _C | None = None, /, *, kw_only: bool = False,
           slots: bool = True) -> _C | Callable[[_C], _C]:
    """An immutable, hashable value class: ``@dataclass(frozen=True, slots=True)``, declared fast."""
    def wrap(klass: _C) -> _C:
        return _declare(klass, is_frozen=True, kw_only=kw_only, slots=slots)

    return wrap if cls is None else wrap(cls)


@overload
def mutable(cls: _C, /) -> _C: ...
@overload
def mutable(*, kw_only: bool = False, slots: bool = True) -> Callable[[_C], _C]: ...
@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def mutable(cls: _C | None = None, /, *, kw_only: bool = False,
           slots: bool = True) -> _C | Callable[[_C], _C]:
    """A mutable value class (equal by value, not hashable): ``@dataclass(slots=True)``, fast."""
    def wrap(klass: _C) -> _C:
        return _declare(klass, is_frozen=False, kw_only=kw_only, slots=slots)

    return wrap if cls is None else wrap(cls)


def _declare(cls: _C, *, is_frozen: bool, kw_only: bool, slots: bool) -> _C:
    if not cls.__dict__.get("__doc__"):
        # dataclasses would build one from inspect.signature, which is what we are avoiding.
        cls.__doc__ = cls.__name__
    made: Any = dataclasses.dataclass(cls, init=False, repr=False, eq=False, kw_only=kw_only,
                                      slots=slots)
    fields = dataclasses.fields(made)
    _check_order(made, fields)
    compared = _tuple_getter(tuple(f.name for f in fields if f.compare))
    shown = tuple(f.name for f in fields if f.repr)
    names = frozenset(f.name for f in fields)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    methods: dict[str, Any] = {"__init__": _lazy_init(made, is_frozen), "__eq__": __eq__,
                               "__repr__": __repr__}
    if is_frozen:
        methods.update(_frozen_methods(made, names, compared))
        if slots:
            methods.update(_slots_state(tuple(f.name for f in fields)))
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{made.__qualname__}.{name}"
        setattr(made, name, method)
    return made  # type: ignore[no-any-return]


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda self: ()


def _check_order(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    """What dataclasses checks when it writes ``__init__``, checked when the class is declared."""
    seen_default = False
    for f in fields:
        if not f.init or f.kw_only:
            continue
        has_default = f.default is not _MISSING or f.default_factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__name__}: non-default argument {f.name!r} follows a default argument")
        seen_default = seen_default or has_default


def _frozen_methods(cls: type, names: frozenset[str],
                    compared: Callable[[Any], tuple[Any, ...]]) -> dict[str, Any]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    def __hash__(self: Any) -> int:
        return hash(compared(self))

    return {"__setattr__": __setattr__, "__delattr__": __delattr__, "__hash__": __hash__}


def _slots_state(names: tuple[str, ...]) -> dict[str, Any]:
    """Pickling and copying a frozen class with slots: its state is its fields' values."""
    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    return {"__getstate__": __getstate__, "__setstate__": __setstate__}


def _lazy_init(cls: type, is_frozen: bool) -> Callable[..., None]:
    """An ``__init__`` that compiles the real one on the first call and puts it in its place."""
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _compile_init(cls, is_frozen)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    return __init__


def _compile_init(cls: type, is_frozen: bool) -> Callable[..., None]:
    namespace: dict[str, Any] = {"__set": object.__setattr__, "__FACTORY": _FACTORY}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        name, has_factory, has_default = f.name, f.default_factory is not _MISSING, f.default is not _MISSING
        namespace[f"__f_{name}"], namespace[f"__d_{name}"] = f.default_factory, f.default
        if f.init:
            default = "=__FACTORY" if has_factory else f"=__d_{name}" if has_default else ""
            (keyword if f.kw_only else positional).append(name + default)
            value = f"__f_{name}() if {name} is __FACTORY else {name}" if has_factory else name
        elif has_factory or has_default:
            value = f"__f_{name}()" if has_factory else f"__d_{name}"
        else:
            continue  # init=False and no default: __post_init__ sets it
        body.append(f"__set(self, {name!r}, {value})" if is_frozen else f"self.{name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({params}) -> None:\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # the same technique as dataclasses, deferred to first use
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
