"""Value classes that cost little to declare: ``@frozen`` and ``@mutable``.

Why not ``@dataclass``: it writes and compiles six methods for every class when the class is
declared, about 0.45 ms each, and importing it imports ``inspect`` (with ``ast``, ``dis`` and
``tokenize``); for the eighty value types a command loads, that was half of netarith's
start-up. The decorators here do what netarith needs of a dataclass and no more: fields from
the annotations (with :func:`field` for options), slots, equality, hashing, ``repr``,
immutability, :func:`fields` and :func:`replace`. Equality and hashing compare one tuple read
by ``operator.attrgetter``; ``__init__`` is compiled the first time the class is instantiated,
so a class a command never makes costs nothing. Type checkers see dataclasses (PEP 681).

>>> @frozen
... class Point:
...     x: int
...     y: int = 0
>>> Point(1) == Point(1, 0), Point(2, 3), hash(Point(1)) == hash(Point(1, 0))
(True, Point(x=2, y=3), True)
>>> replace(Point(1), y=5)
Point(x=1, y=5)
>>> Point(1).x = 5
Traceback (most recent call last):
netarith._values.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from operator import attrgetter
from types import MemberDescriptorType

# Importing typing costs a command 3 ms of its 50 at start-up, so netarith's modules read
# it only when type-checked; here, what the decorators need of it at run time is written out.
TYPE_CHECKING = False  # typing's constant
if TYPE_CHECKING:
    from typing import Any, TypeVar, overload

    from typing_extensions import dataclass_transform  # in typing only from Python 3.11

    _C = TypeVar("_C", bound=type)
    _T = TypeVar("_T")
else:
    def dataclass_transform(**_: object) -> Callable[[object], object]:
        return lambda function: function

__all__ = ["MISSING", "Field", "FrozenInstanceError", "field", "fields", "frozen", "mutable", "replace"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: A field's default or default_factory when it has none.
MISSING: Any = _Missing()
# The slot where a frozen instance keeps its hash once computed.
_HASH = "_value_hash"
# The default of a parameter whose field has a default_factory: the factory runs when it is seen.
_FACTORY = object()


class FrozenInstanceError(AttributeError):
    """Assigning to (or deleting) a field of a frozen instance."""


class Field:
    """One field of a value class, as :func:`field` declares it (``name`` set by the decorator)."""

    __slots__ = ("compare", "default", "default_factory", "init", "kw_only", "metadata", "name", "repr")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, compare: bool,
                 kw_only: bool | None, metadata: Mapping[str, Any] | None) -> None:
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare, self.kw_only = init, repr, compare, kw_only
        self.metadata: Mapping[str, Any] = metadata or {}

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING,
          init: bool = True, repr: bool = True, compare: bool = True, kw_only: bool | None = None,
          metadata: Mapping[str, Any] | None = None) -> Any:
    """A field with options, as ``dataclasses.field``: ``x: list[int] = field(default_factory=list)``."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("a field cannot have both a default and a default_factory")
    return Field(default, default_factory, init, repr, compare, kw_only, metadata)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a value class (or of one of its instances), in declaration order."""
    found: tuple[Field, ...] | None = getattr(obj, "__value_fields__", None)
    if found is None:
        raise TypeError(f"fields() needs a @frozen or @mutable class or instance, not {obj!r}")
    return found


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of ``obj`` with some fields changed (validated again, as a new instance is)."""
    for f in fields(obj):
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name!r} is set by the class and cannot be replaced")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


if TYPE_CHECKING:  # the two ways to apply it, for type checkers
    @overload
    def frozen(cls: _C, /) -> _C: ...
    @overload
    def frozen(*, kw_only: bool = False, slots: bool = True, cache_hash: bool = False) -> Callable[[_C], _C]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def frozen(cls: _C | None = None, /, *, kw_only: bool = False, slots: bool = True,
           cache_hash: bool = False) -> _C | Callable[[_C], _C]:
    """An immutable, hashable value class: ``@dataclass(frozen=True, slots=True)``, declared fast."""
    def wrap(klass: _C) -> _C:
        return _declare(klass, is_frozen=True, kw_only=kw_only, slots=slots, cache_hash=cache_hash)

    return wrap if cls is None else wrap(cls)


if TYPE_CHECKING:
    @overload
    def mutable(cls: _C, /) -> _C: ...
    @overload
    def mutable(*, kw_only: bool = False, slots: bool = True) -> Callable[[_C], _C]: ...
@dataclass_transform(field_specifiers=(field, Field))
def mutable(cls: _C | None = None, /, *, kw_only: bool = False,
           slots: bool = True) -> _C | Callable[[_C], _C]:
    """A mutable value class (equal by value, not hashable): ``@dataclass(slots=True)``, fast."""
    def wrap(klass: _C) -> _C:
        return _declare(klass, is_frozen=False, kw_only=kw_only, slots=slots)

    return wrap if cls is None else wrap(cls)


def _declare(cls: _C, *, is_frozen: bool, kw_only: bool, slots: bool, cache_hash: bool = False) -> _C:
    all_fields, own = _collect(cls, kw_only)
    # A value hashed again and again as a key (the analysis memoises (op, *shapes)) keeps its
    # hash in a slot once computed, as attrs' cache_hash does: asked for, or a base has the slot.
    cache_hash = is_frozen and slots and (cache_hash or any(_HASH in _slot_names(b) for b in cls.__mro__))
    made: Any = _with_slots(cls, all_fields, (_HASH,) if cache_hash else ()) if slots else cls
    if not slots:
        for f in own:  # the class attribute is the default, as with dataclasses
            if f.default is MISSING:
                if f.name in cls.__dict__:
                    delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    made.__value_fields__ = all_fields
    setattr(made, "__match_args__", tuple(f.name for f in all_fields if f.init and not f.kw_only))  # noqa: B010
    _check_order(made, all_fields)
    compared = _tuple_getter(tuple(f.name for f in all_fields if f.compare))
    shown = tuple(f.name for f in all_fields if f.repr)
    names = frozenset(f.name for f in all_fields)

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
        methods.update(_frozen_methods(made, names, compared, cache_hash))
        if slots:
            methods.update(_slots_state(tuple(f.name for f in all_fields)))
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        # Written in the class: kept, as dataclasses keeps it (but not the __hash__ = None that
        # Python itself adds to a class body defining __eq__).
        if name in made.__dict__ and not (name == "__hash__" and made.__dict__[name] is None
                                          and "__eq__" in made.__dict__):
            if name in ("__setattr__", "__delattr__"):
                raise TypeError(f"{made.__name__}: a frozen class cannot define {name}")
            continue
        if method is not None:
            method.__qualname__ = f"{made.__qualname__}.{name}"
        setattr(made, name, method)
    return made  # type: ignore[no-any-return]


def _collect(cls: type, kw_only: bool) -> tuple[tuple[Field, ...], list[Field]]:
    """All fields (inherited first, a redeclared one keeping its place) and the class's own."""
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__value_fields__", ()):
            by_name[f.name] = f
    own = []
    # The class's own annotations; inspect.get_annotations would import inspect, which we avoid.
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(value, MISSING, True, True, True, None, None)
        f.name = name
        if f.kw_only is None:
            f.kw_only = kw_only
        if f.default is not MISSING and type(f.default).__hash__ is None:
            raise ValueError(f"{cls.__name__}.{name}: mutable default {type(f.default).__name__}; "
                             "use field(default_factory=...)")
        by_name[name] = f
        own.append(f)
    return tuple(by_name.values()), own


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):  # from __future__ import annotations
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    typing = sys.modules.get("typing")  # a ClassVar object exists only once typing is imported
    if typing is None:
        return False
    return annotation is typing.ClassVar or getattr(annotation, "__origin__", None) is typing.ClassVar


def _with_slots(cls: type, all_fields: tuple[Field, ...], extra: tuple[str, ...]) -> type:
    """The class made again with ``__slots__`` (slots must be declared when a class is made)."""
    taken = {name for base in cls.__mro__[1:] for name in _slot_names(base)}
    names = {f.name for f in all_fields}
    namespace = {key: value for key, value in cls.__dict__.items()
                 if key not in names and key not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = tuple(name for name in (*(f.name for f in all_fields), *extra) if name not in taken)
    made = type(cls)(cls.__name__, cls.__bases__, namespace)
    made.__qualname__ = cls.__qualname__
    return made


def _slot_names(cls: type) -> tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda self: ()


def _check_order(cls: type, all_fields: tuple[Field, ...]) -> None:
    """Python's rule for ``__init__``'s parameters, checked when the class is declared."""
    seen_default = False
    for f in all_fields:
        if not f.init or f.kw_only:
            continue
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__name__}: non-default argument {f.name!r} follows a default argument")
        seen_default = seen_default or has_default


def _frozen_methods(cls: type, names: frozenset[str], compared: Callable[[Any], tuple[Any, ...]],
                    cache_hash: bool) -> dict[str, Any]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    hasher = _cached_hash(cls, compared) if cache_hash else lambda self: hash(compared(self))
    return {"__setattr__": __setattr__, "__delattr__": __delattr__, "__hash__": hasher}


def _cached_hash(cls: type, compared: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    """``__hash__`` that computes once, then reads the slot."""
    store = next(k.__dict__[_HASH] for k in cls.__mro__ if _HASH in k.__dict__).__set__

    def __hash__(self: Any) -> int:
        try:
            return self._value_hash  # type: ignore[no-any-return]
        except AttributeError:
            value = hash(compared(self))
            store(self, value)
            return value

    return __hash__


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
    for f in fields(cls):
        name, has_factory, has_default = f.name, f.default_factory is not MISSING, f.default is not MISSING
        namespace[f"__f_{name}"], namespace[f"__d_{name}"] = f.default_factory, f.default
        if f.init:
            default = "=__FACTORY" if has_factory else f"=__d_{name}" if has_default else ""
            (keyword if f.kw_only else positional).append(name + default)
            value = f"__f_{name}() if {name} is __FACTORY else {name}" if has_factory else name
        elif has_factory or has_default:
            value = f"__f_{name}()" if has_factory else f"__d_{name}"
        else:
            continue  # init=False and no default: __post_init__ sets it
        body.append(_store(cls, name, value, namespace) if is_frozen else f"self.{name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({params}) -> None:\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # the same technique as dataclasses, deferred to first use
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _store(cls: type, name: str, value: str, namespace: dict[str, Any]) -> str:
    """The statement that stores a frozen field, past the ``__setattr__`` that refuses: the
    slot's own setter when the field is a slot (twice as fast), else object.__setattr__."""
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if isinstance(slot, MemberDescriptorType):
            namespace[f"__s_{name}"] = slot.__set__
            return f"__s_{name}(self, {value})"
    return f"__set(self, {name!r}, {value})"
