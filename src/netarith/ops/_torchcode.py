"""Small helpers that write PyTorch constructor code (strings, no torch import)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["kwargs", "pad_module", "symmetric", "torch_pads", "tup"]


def tup(values: Sequence[int]) -> str:
    """``(3, 3)`` for a tuple, ``3`` when there is a single axis."""
    if len(values) == 1:
        return str(values[0])
    return "(" + ", ".join(str(v) for v in values) + ")"


def symmetric(pads: Sequence[tuple[int, int]]) -> bool:
    return all(before == after for before, after in pads)


def torch_pads(pads: Sequence[tuple[int, int]]) -> str:
    """``F.pad`` order: the last axis first, (before, after) each."""
    flat: list[int] = []
    for before, after in reversed(pads):
        flat += [before, after]
    return "(" + ", ".join(str(v) for v in flat) + ")"


_PAD_MODULES = {
    "zeros": "ConstantPad{n}d({pads}, 0.0)",
    "constant": "ConstantPad{n}d({pads}, {value})",
    "reflect": "ReflectionPad{n}d({pads})",
    "replicate": "ReplicationPad{n}d({pads})",
    "circular": "CircularPad{n}d({pads})",
}


def pad_module(pads: Sequence[tuple[int, int]], mode: str = "zeros", value: float | str = 0.0) -> str:
    """An ``nn`` padding module for explicit (possibly asymmetric) padding."""
    template = _PAD_MODULES[mode]
    return "nn." + template.format(n=len(pads), pads=torch_pads(pads), value=value)


def kwargs(*items: tuple[str, object, object]) -> str:
    """``, stride=2, groups=4``: the (name, value, default) items whose value is not the default."""
    return "".join(f", {name}={value}" for name, value, default in items if value != default)
