"""netarith._values: @frozen and @mutable behave as the dataclasses they replace.

The oracle is ``dataclasses`` itself: the same class declared both ways must give the same
repr, equality and hash."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from netarith._values import MISSING, FrozenInstanceError, field, fields, frozen, mutable, replace


@frozen
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class PointDC:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@frozen(kw_only=True)
class Options:
    size: int
    names: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)
    total: int = field(init=False, default=0)
    label: ClassVar[str] = "options"


@frozen(kw_only=True)
class Checked:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low {self.low} > high {self.high}")


@frozen(kw_only=True)
class Child(Checked):
    step: int = 1


@mutable
class Counter:
    name: str
    count: int = 0
    seen: list[int] = field(default_factory=list)


@frozen(slots=False)
class Loose:
    a: int
    b: str = "b"


POINTS = [(1,), (1, 2), (0, 0, ("a",)), (-3, 7, ("x", "y"))]


@pytest.mark.parametrize("args", POINTS)
def test_same_repr_equality_and_hash_as_a_dataclass(args: tuple[object, ...]) -> None:
    ours, theirs = Point(*args), PointDC(*args)  # type: ignore[arg-type]
    assert repr(ours) == repr(theirs).replace("PointDC", "Point")
    assert hash(ours) == hash(theirs)
    for other in POINTS:
        assert (ours == Point(*other)) == (theirs == PointDC(*other))  # type: ignore[arg-type]
    assert ours != theirs and ours != args


def test_frozen_refuses_assignment_and_deletion() -> None:
    p = Point(1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'y'"):
        del p.y  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Loose(1).a = 2  # type: ignore[misc]


def test_keyword_only_factories_and_fields_left_out() -> None:
    with pytest.raises(TypeError):
        Options(3)  # type: ignore[misc]
    a, b = Options(size=3), Options(size=3, note="other")
    assert a.names == [] and a.names is not b.names  # a fresh list each time
    assert a == b  # note: compare=False
    assert repr(a) == "Options(size=3, names=[], total=0)"  # note: repr=False; ClassVar is no field
    assert a.total == 0 and Options.label == "options"
    with pytest.raises(TypeError):
        Options(size=3, total=1)  # type: ignore[call-arg]


def test_post_init_runs_and_is_inherited() -> None:
    with pytest.raises(ValueError, match="low 5 > high 1"):
        Checked(low=5, high=1)
    with pytest.raises(ValueError, match="low 5 > high 1"):
        Child(low=5, high=1, step=2)
    assert [f.name for f in fields(Child)] == ["low", "high", "step"]
    assert Child(low=1, high=2) != Checked(low=1, high=2)  # different classes are never equal


def test_replace_builds_a_new_validated_instance() -> None:
    c = Child(low=1, high=4)
    assert replace(c, step=3) == Child(low=1, high=4, step=3) and c.step == 1
    with pytest.raises(ValueError, match="low 9 > high 4"):
        replace(c, low=9)
    with pytest.raises(ValueError, match="'total' is set by the class"):
        replace(Options(size=1), total=5)
    with pytest.raises(TypeError, match="fields\\(\\) needs"):
        replace(object())


def test_fields_give_defaults_and_metadata() -> None:
    by_name = {f.name: f for f in fields(Options(size=1))}
    assert by_name["size"].default is MISSING and by_name["names"].default_factory is list
    assert by_name["note"].default == "" and not by_name["total"].init
    assert dict(field(default=1, metadata={"arg": 2}).metadata) == {"arg": 2}


@pytest.mark.parametrize("value", [Point(1, 2, ("a",)), Child(low=0, high=1), Loose(3)])
def test_pickle_copy_and_deepcopy(value: object) -> None:
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.copy(value) == value and copy.deepcopy(value) == value


def test_mutable_classes_assign_compare_and_are_unhashable() -> None:
    c = Counter("a")
    c.count += 1
    c.seen.append(1)
    assert c == Counter("a", 1, [1]) and c != Counter("b", 1, [1])
    assert Counter("a").seen is not Counter("a").seen
    with pytest.raises(TypeError):
        hash(c)


def test_slots_are_used() -> None:
    assert not hasattr(Point(1), "__dict__") and hasattr(Loose(1), "__dict__")
    assert Point.__slots__ == ("x", "y", "tags")
    assert Child.__slots__ == ("step",)  # its parent holds the others


def test_init_is_compiled_on_first_use() -> None:
    @frozen
    class Late:
        a: int
        b: int = 2

    assert Late.__init__.__code__.co_varnames[:1] == ("self",)  # the stub: (self, *args, **kwargs)
    assert Late(1) == Late(1, 2)
    assert Late.__init__.__code__.co_varnames[:3] == ("self", "a", "b")


def test_declaration_errors_are_raised_when_the_class_is_declared() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows a default argument"):
        @frozen
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]
    with pytest.raises(ValueError, match="mutable default list"):
        @frozen
        class Shared:
            items: list[int] = []  # noqa: RUF012
    with pytest.raises(ValueError, match="both a default and a default_factory"):
        field(default=1, default_factory=list)


def test_a_hash_asked_to_be_kept_is_computed_once() -> None:
    @frozen(cache_hash=True)
    class Key:
        parts: tuple[int, ...]

    @frozen(kw_only=True)
    class Below(Key):  # inherits the slot, and the caching
        extra: int = 0

    k, b = Key((1, 2)), Below(parts=(3,))
    assert hash(k) == hash(((1, 2),)) and k._value_hash == hash(k)  # type: ignore[attr-defined]
    assert hash(b) == hash(((3,), 0)) and b._value_hash == hash(b)  # type: ignore[attr-defined]
    assert "_value_hash" in Key.__slots__ and "_value_hash" not in Below.__slots__
    assert copy.deepcopy(k) == k and hash(copy.deepcopy(k)) == hash(k)


def test_methods_written_in_the_class_are_kept() -> None:
    @frozen
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("a")) == "<a>" and Named("a") == Named("a")
    with pytest.raises(TypeError, match="cannot define __setattr__"):
        @frozen
        class Sneaky:
            a: int

            def __setattr__(self, name: str, value: object) -> None:
                pass
