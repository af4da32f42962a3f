"""Receptive fields: size, jump (effective stride) and start, per axis.

After Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019, in forward form: starting from ``r = 1, j = 1, P = 0``
at the input, a window of effective size ``k_eff``, stride ``s`` and left padding
``p`` gives ``r += (k_eff - 1) * j;  P += p * j;  j *= s``. The centre of the
first output's field is at input coordinate ``start = -P + (r - 1)/2``.

An :data:`RF` holds one :class:`AxisRF` per tensor dimension, ``None`` where the
dimension is not spatial (channels, features); it is ``None`` as a whole where a
field stops meaning anything (after flatten). Each op says how it transforms
fields with one of the small rules below; :func:`apply` is the one place that
does the arithmetic.

Merging paths (add, mul, concat): paths are aligned when they have the same
jump and the same centre; the merged field is then the largest. Unaligned paths
with equal jumps give the union of their fields, with a warning (the google-research
library refuses such graphs). Transposed convolutions and upsampling give an upper
bound (derived in conv-arithmetic.md section 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from math import ceil

from ._values import frozen
from .shape import spatial_names
from .trace import Trace, fmt_num

__all__ = [
    "DROP",
    "ELEMENTWISE",
    "RF",
    "AxisRF",
    "Collapse",
    "RFRule",
    "Remap",
    "Stretch",
    "Transposed",
    "Windows",
    "apply",
    "input_rf",
    "through_windows",
    "to_json",
]

Num = int | Fraction


@frozen
class AxisRF:
    """The receptive field along one axis, in input pixels."""

    size: Num
    jump: Num
    pad: Num  # effective padding P (Distill): the field of output 0 starts at -P

    @property
    def start(self) -> Fraction:
        """Input coordinate of the centre of the first output's field."""
        return Fraction(self.size - 1, 1) / 2 - self.pad

    @property
    def left(self) -> Num:
        return -self.pad


RF = tuple[AxisRF | None, ...]


class RFRule:
    """How an op maps its inputs' fields to its output's field."""

    __slots__ = ()


class _Elementwise(RFRule):
    """Each output reads the same position of each input (activations, add, concat)."""

    __slots__ = ()


class _Drop(RFRule):
    """No field survives (flatten, reshape)."""

    __slots__ = ()


ELEMENTWISE = _Elementwise()
DROP = _Drop()


@frozen
class Windows(RFRule):
    """A sliding window on each spatial axis: (k_eff, stride, left padding)."""

    axes: tuple[tuple[int, Num, int], ...]


@frozen
class Stretch(RFRule):
    """Upsampling by ``factor`` reading ``taps`` inputs per output (nearest 1, linear 2, cubic 4)."""

    axes: tuple[tuple[Fraction, int], ...]


@frozen
class Transposed(RFRule):
    """A transposed window (k_eff, stride, padding): an upper bound."""

    axes: tuple[tuple[int, int, int], ...]


@frozen
class Remap(RFRule):
    """Output dim ``n`` is input dim ``order[n]``, or mixes several when None (permute, flatten)."""

    order: tuple[int | None, ...]


@frozen
class Collapse(RFRule):
    """These output dims mix their whole input axis (a linear layer on the last axis)."""

    dims: tuple[int, ...]


def input_rf(rank: int, trace: Trace | None = None) -> RF:
    """The field at a network input: each pixel sees itself."""
    unit = AxisRF(1, 1, 0)
    rf = (None,) + (unit,) * rank
    _unchanged(trace, rf, "1 pixel, 1 apart, centred on itself (the input)")
    return rf


def apply(rule: RFRule, ins: Sequence[RF | None], in_dims: Sequence[tuple[int, ...]],
          out_dims: tuple[int, ...], trace: Trace | None = None) -> tuple[RF | None, str | None]:
    """The output field under ``rule``, and a warning if paths do not align.

    With a ``trace``, each size, jump and start is recorded as it is computed
    (quantities ``rf.size H``, ``rf.jump H``, ``rf.start H``).
    """
    if rule is ELEMENTWISE and len(ins) == 1:  # the usual layer: an activation, a normalisation
        rf, warning = _kept(ins[0], len(out_dims), trace), None
    elif trace is None and type(rule) is Windows:  # a convolution, a pooling
        rf, warning = through_windows(ins[0] if ins else None, rule.axes), None
    elif trace is None and rule is ELEMENTWISE and (merged := _merge_square(ins, in_dims, out_dims)):
        rf, warning = merged  # a residual add of two square maps
    elif trace is None and rule is ELEMENTWISE and _unbroadcast(ins, in_dims, out_dims):
        rf, warning = _merge_aligned(ins, len(out_dims))  # the usual merge: a residual add, a concat
    else:
        rf, warning = _apply(rule, ins, in_dims, out_dims, trace)
    if trace is not None and rf is None:
        trace.note("rf", "no receptive field: the positions of the input are mixed from here on"
                   if any(i is not None for i in ins) else "no receptive field (the input has none)")
    return rf, warning


def through_windows(rf: RF | None, axes: tuple[tuple[int, Num, int], ...]) -> RF | None:
    """The field after sliding windows (a convolution, a pooling), untraced."""
    if rf is None:
        return None
    return _windows_square(rf, axes) or _windows_quick(rf, axes)


def _apply(rule: RFRule, ins: Sequence[RF | None], in_dims: Sequence[tuple[int, ...]],
           out_dims: tuple[int, ...], trace: Trace | None) -> tuple[RF | None, str | None]:
    if rule is DROP or not ins:
        return None, None
    if isinstance(rule, _Elementwise):
        return _merge(ins, in_dims, out_dims, trace)
    first = ins[0]
    if first is None:
        return None, None
    if isinstance(rule, Windows):
        return _spatial(first, rule.axes, _window, trace), None
    if isinstance(rule, Stretch):
        return _spatial(first, rule.axes, _stretch, trace), None
    if isinstance(rule, Transposed):
        return _spatial(first, rule.axes, _transposed, trace), None
    if isinstance(rule, Remap):
        remapped = tuple(None if i is None or i >= len(first) else first[i] for i in rule.order)
        _unchanged(trace, remapped, "the input's, moved with its axis")
        return _none_if_empty(remapped), None
    if isinstance(rule, Collapse):
        out = list(first) + [None] * (len(out_dims) - len(first))
        for d in rule.dims:
            out[d] = None
        kept = tuple(out[: len(out_dims)])
        _unchanged(trace, kept, "the input's (the mixed axes have none)")
        return _none_if_empty(kept), None
    raise TypeError(f"unknown receptive-field rule {rule!r}")  # pragma: no cover


def _names(rf: RF) -> tuple[str, ...]:
    rank = len(rf) - 1
    return ("C", *spatial_names(rank))


def _unchanged(trace: Trace | None, rf: RF, why: str) -> None:
    """Record a field passed on as it is."""
    if trace is None:
        return
    for name, axis in zip(_names(rf), rf):
        if axis is not None:
            trace.step(f"rf.size {name}", why, fmt_num(axis.size), axis.size)
            trace.step(f"rf.jump {name}", why, fmt_num(axis.jump), axis.jump)
            trace.step(f"rf.start {name}", why, fmt_num(axis.start), axis.start)


def _none_if_empty(rf: RF) -> RF | None:
    for axis in rf:  # a loop, not any(): no generator to make for each layer
        if axis is not None:
            return rf
    return None


Step = Callable[..., AxisRF]


def _spatial(rf: RF, axes: Sequence[tuple[object, ...]], step: Step, trace: Trace | None) -> RF | None:
    """Apply a per-axis step to the spatial dims (1..) of a field."""
    out: list[AxisRF | None] = [rf[0]]
    names = _names(rf)[1:] if trace is not None else ("",) * (len(rf) - 1)  # names serve the trace only
    empty = rf[0] is None
    for n, axis in enumerate(rf[1:]):
        if axis is None or n >= len(axes):
            out.append(None)
            continue
        if n and trace is None and axis is rf[n] and axes[n] == axes[n - 1]:
            out.append(out[n])  # the field and the window of the axis before (square): its result
        else:
            out.append(step(axis, *axes[n], trace=trace, name=names[n]))
        empty = False
    return None if empty else tuple(out)


def _windows_quick(rf: RF, axes: tuple[tuple[int, Num, int], ...]) -> RF | None:
    """``_spatial(rf, axes, _window)`` untraced, for the layer most networks are made of: an
    axis with the field and the window of the axis before (a square map) takes its result, and
    windows that change no field (1x1, stride 1) give back the input's field itself."""
    out: list[AxisRF | None] = [rf[0]]
    empty = rf[0] is None
    changed = False
    last_in: AxisRF | None = None
    last_window: tuple[int, Num, int] | None = None
    last_out: AxisRF | None = None
    for n in range(1, len(rf)):
        axis = rf[n]
        if axis is None or n > len(axes):
            changed = changed or axis is not None
            out.append(None)
            continue
        empty = False
        window = axes[n - 1]
        if axis is not last_in or window != last_window:
            last_in, last_window = axis, window
            last_out = _windowed(axis, *window)
        changed = changed or last_out is not axis
        out.append(last_out)
    if empty:
        return None
    return tuple(out) if changed else rf


def _windows_square(rf: RF, axes: tuple[tuple[int, Num, int], ...]) -> RF | None:
    """``_windows_quick`` for a 2-d map whose two axes share one field and one window (a square
    convolution on a square map, most of a CNN): one axis computed; None for any other case."""
    if len(rf) != 3 or len(axes) != 2:
        return None
    axis = rf[1]
    if axis is None or axis is not rf[2] or axes[0] != axes[1]:
        return None
    out = _windowed(axis, *axes[0])
    return rf if out is axis else (rf[0], out, out)


def _merge_square(ins: Sequence[RF | None], in_dims: Sequence[tuple[int, ...]],
                  out_dims: tuple[int, ...]) -> tuple[RF | None, str | None] | None:
    """``_merge_aligned`` for inputs of the output's dims, each a 2-d map whose two axes share one
    field and whose channels have none (a residual add): one axis united; None otherwise."""
    if len(ins) < 2:
        return None
    column: list[AxisRF] = []
    for rf, dims in zip(ins, in_dims):
        if rf is None or len(rf) != 3 or dims != out_dims or rf[0] is not None:
            return None
        axis = rf[1]
        if axis is None or axis is not rf[2]:
            return None
        column.append(axis)
    union, warning = _union_quick(column)
    return (None, union, union) if union is not None else None, warning


def _norm(x: Num) -> Num:
    # type() first: isinstance against Fraction (an ABC) is slow, and most fields are ints
    if type(x) is not int and isinstance(x, Fraction) and x.denominator == 1:
        return x.numerator
    return x


def _n(x: Num) -> str:
    return fmt_num(x)


def _windowed(a: AxisRF, k_eff: int, stride: Num, pad: int) -> AxisRF:
    """The field after a window (k_eff, stride, left padding): the input's own for a 1-wide window,
    stride 1, no padding (a 1x1 convolution)."""
    if k_eff == 1 and stride == 1 and pad == 0:
        return a
    return AxisRF(
        _norm(a.size + (k_eff - 1) * a.jump),
        _norm(a.jump * stride),
        _norm(a.pad + pad * a.jump),
    )


def _window(a: AxisRF, k_eff: int, stride: Num, pad: int, *, trace: Trace | None = None,
            name: str = "") -> AxisRF:
    out = _windowed(a, k_eff, stride, pad)
    if trace is not None:
        trace.step(f"rf.size {name}", "r_in + (k_eff - 1) * j_in", f"{_n(a.size)} + ({k_eff} - 1) * {_n(a.jump)}",
                   out.size)
        trace.step(f"rf.jump {name}", "j_in * s", f"{_n(a.jump)} * {_n(stride)}", out.jump,
                   note="the distance in input pixels between neighbouring outputs")
        trace.step(f"rf.start {name}", "(r - 1)/2 - P, where P = P_in + p * j_in",
                   f"({_n(out.size)} - 1)/2 - ({_n(a.pad)} + {pad} * {_n(a.jump)})", out.start,
                   note="the centre of the first output's field, in input pixels from 0")
    return out


def _stretch(a: AxisRF, factor: Fraction, taps: int, *, trace: Trace | None = None, name: str = "") -> AxisRF:
    size = a.size + (taps - 1) * a.jump
    centre = a.start
    if taps > 1:  # linear modes sample at (u + 0.5)/f - 0.5 (align_corners=False)
        centre += a.jump * (Fraction(1, 2) / factor - Fraction(1, 2))
    out = AxisRF(_norm(size), _norm(a.jump / factor), _norm(Fraction(size - 1, 2) - centre))
    if trace is not None:
        trace.step(f"rf.size {name}", "r_in + (taps - 1) * j_in", f"{_n(a.size)} + ({taps} - 1) * {_n(a.jump)}",
                   out.size, note="an upper bound: each output interpolates taps inputs")
        trace.step(f"rf.jump {name}", "j_in / scale", f"{_n(a.jump)} / {_n(factor)}", out.jump)
        if taps > 1:
            trace.step(f"rf.start {name}", "start_in + j_in * (1/(2*scale) - 1/2)",
                       f"{_n(a.start)} + {_n(a.jump)} * (1/(2*{_n(factor)}) - 1/2)", out.start)
        else:
            trace.step(f"rf.start {name}", "start_in (nearest copies)", _n(a.start), out.start)
    return out


def _transposed(a: AxisRF, k_eff: int, stride: int, pad: int, *, trace: Trace | None = None,
                name: str = "") -> AxisRF:
    size = a.size + (ceil(k_eff / stride) - 1) * a.jump
    centre = a.start + a.jump * (pad - Fraction(k_eff - 1, 2)) / stride
    out = AxisRF(_norm(size), _norm(Fraction(a.jump) / stride), _norm(Fraction(size - 1, 2) - centre))
    if trace is not None:
        trace.step(f"rf.size {name}", "r_in + (ceil(k_eff/s) - 1) * j_in",
                   f"{_n(a.size)} + (ceil({k_eff}/{stride}) - 1) * {_n(a.jump)}", out.size,
                   note="an upper bound: an output reads at most ceil(k_eff/s) inputs per axis")
        trace.step(f"rf.jump {name}", "j_in / s", f"{_n(a.jump)} / {stride}", out.jump)
        trace.step(f"rf.start {name}", "start_in + j_in * (p - (k_eff - 1)/2) / s",
                   f"{_n(a.start)} + {_n(a.jump)} * ({pad} - ({k_eff} - 1)/2) / {stride}", out.start)
    return out


def _merge(ins: Sequence[RF | None], in_dims: Sequence[tuple[int, ...]],
           out_dims: tuple[int, ...], trace: Trace | None = None) -> tuple[RF | None, str | None]:
    """Elementwise merge of several inputs with PyTorch broadcasting (dims aligned from the right)."""
    rank = len(out_dims)
    merged: list[AxisRF | None] = []
    warning = None
    names = ("C", *spatial_names(rank - 1))
    previous: tuple[list[AxisRF], list[AxisRF]] | None = None  # the last dim's fields, when merged
    for d in range(rank):
        full: list[AxisRF] = []
        broadcast: list[AxisRF] = []
        missing = False
        for rf, dims in zip(ins, in_dims):
            offset = rank - len(dims)
            if d < offset:
                continue  # the input has no such dim: broadcast without a field
            if rf is None or len(rf) != len(dims):
                missing = True
                continue
            axis = rf[d - offset]
            if axis is None:
                missing = True
                continue
            if dims[d - offset] == 1 and out_dims[d] != 1:
                broadcast.append(axis)
            else:
                full.append(axis)
        if missing or not (full or broadcast):
            merged.append(None)
            previous = None
            continue
        if trace is None and previous == (full, broadcast):
            merged.append(merged[-1])  # the same fields as the dim before (a square map): its result
            continue
        previous = (full, broadcast)
        axis_rf, note = _union(full, trace, names[d]) if full else (broadcast[0], None)
        if axis_rf is not None and broadcast:
            # Every output also sees the broadcast input's whole field.
            biggest = max(b.size for b in broadcast)
            if biggest > axis_rf.size:  # grown about the same centre
                axis_rf = AxisRF(biggest, axis_rf.jump, _norm(axis_rf.pad + Fraction(biggest - axis_rf.size, 2)))
            if trace is not None:
                trace.note(f"rf.size {names[d]}", "a broadcast input's whole field reaches every output")
        if trace is not None and axis_rf is not None and (broadcast or not full):
            _unchanged(trace, tuple(axis_rf if n == d else None for n in range(rank)), "after broadcasting")
        warning = warning or note
        merged.append(axis_rf)
    return _none_if_empty(tuple(merged)), warning


def _unbroadcast(ins: Sequence[RF | None], in_dims: Sequence[tuple[int, ...]], out_dims: tuple[int, ...]) -> bool:
    """Every input has a field of the output's rank and no dim to broadcast (size 1 against more)."""
    rank = len(out_dims)
    for rf, dims in zip(ins, in_dims):
        if rf is None or len(rf) != rank or len(dims) != rank:
            return False
        if 1 in dims and dims != out_dims and any(d == 1 and o != 1 for d, o in zip(dims, out_dims)):
            return False
    return True


def _merge_aligned(ins: Sequence[RF | None], rank: int) -> tuple[RF | None, str | None]:
    """What :func:`_merge` gives when no input broadcasts, without its bookkeeping: each dim's
    fields united; a dim whose fields are the very objects of the dim before (a square map)
    takes its result."""
    merged: list[AxisRF | None] = []
    warning = None
    before: list[AxisRF | None] = []
    for d in range(rank):
        column = [rf[d] for rf in ins]  # type: ignore[index]  # _unbroadcast: no None
        if d and column == before:  # list == compares by identity first: cheap on a square map
            merged.append(merged[-1])
            continue
        before = column
        for axis in column:
            if axis is None:
                merged.append(None)
                break
        else:
            axis_rf, note = _union_quick(column)  # type: ignore[arg-type]  # no None, checked above
            warning = warning or note
            merged.append(axis_rf)
    return _none_if_empty(tuple(merged)), warning


def _kept(rf: RF | None, rank: int, trace: Trace | None) -> RF | None:
    """An elementwise layer's field: its input's, if it has as many dims."""
    if rf is None or len(rf) != rank:
        return None
    if trace is not None:
        _unchanged(trace, rf, "the input's (elementwise)")
    return rf


def _union(fields: list[AxisRF], trace: Trace | None = None, name: str = "") -> tuple[AxisRF | None, str | None]:
    first = fields[0]
    if trace is None:
        return _union_quick(fields)
    if all(f == first for f in fields[1:]):
        if trace is not None:
            why = "the same in every input" if len(fields) > 1 else "the input's (elementwise)"
            trace.step(f"rf.size {name}", why, _n(first.size), first.size)
            trace.step(f"rf.jump {name}", why, _n(first.jump), first.jump)
            trace.step(f"rf.start {name}", why, _n(first.start), first.start)
        return first, None
    if len({f.jump for f in fields}) > 1:
        return None, _stride_mismatch(fields)
    pad = max(f.pad for f in fields)
    right = max(f.size - 1 - f.pad for f in fields)
    union = AxisRF(_norm(right + pad + 1), first.jump, _norm(pad))
    if trace is not None:
        rights = ", ".join(_n(f.size - 1 - f.pad) for f in fields)
        pads = ", ".join(_n(f.pad) for f in fields)
        trace.step(f"rf.size {name}", "max(r - 1 - P) + max(P) + 1 over the inputs (the union of their fields)",
                   f"max({rights}) + max({pads}) + 1", union.size)
        trace.step(f"rf.jump {name}", "the inputs' common jump", _n(first.jump), union.jump)
        trace.step(f"rf.start {name}", "(r - 1)/2 - max(P)", f"({_n(union.size)} - 1)/2 - {_n(pad)}", union.start)
    note = None
    # Twice each centre, r - 1 - 2P, compares the centres exactly without building Fractions.
    if len({f.size - 1 - 2 * f.pad for f in fields}) > 1:
        note = _misaligned(fields)
    return union, note


def _union_quick(fields: list[AxisRF]) -> tuple[AxisRF | None, str | None]:
    """:func:`_union` untraced, in one pass over the fields (a residual add merges two: the
    generator expressions of the general code cost more than its arithmetic)."""
    first = fields[0]
    jump = first.jump
    pad = first.pad
    right = first.size - 1 - pad
    twice_centre = right - pad  # r - 1 - 2P, twice the centre: compares centres without Fractions
    same = aligned = True
    for f in fields[1:]:
        if f is first:
            continue
        if f.jump != jump:
            return None, _stride_mismatch(fields)  # (fields with different jumps are not all equal)
        same = same and f == first
        right_f = f.size - 1 - f.pad
        aligned = aligned and right_f - f.pad == twice_centre
        if f.pad > pad:
            pad = f.pad
        if right_f > right:
            right = right_f
    if same:
        return first, None
    union = AxisRF(_norm(right + pad + 1), jump, _norm(pad))
    return union, None if aligned else _misaligned(fields)


def _stride_mismatch(fields: list[AxisRF]) -> str:
    jumps = {f.jump for f in fields}
    return ("the merged paths have different effective strides "
            f"({', '.join(str(j) for j in sorted(jumps))}): no single receptive field")


def _misaligned(fields: list[AxisRF]) -> str:
    centres = {f.start for f in fields}
    return ("the merged paths are not aligned (their fields have different centres "
            f"{', '.join(_fmt(c) for c in sorted(centres))}); the field given is their union")


def _fmt(x: Num) -> str:
    return str(float(x)) if isinstance(x, Fraction) else str(x)


def _json_num(x: Num) -> int | float:
    if type(x) is not int and isinstance(x, Fraction):  # type() first, as in _norm
        return x.numerator if x.denominator == 1 else float(x)
    return x


def _json_start(a: AxisRF) -> float:
    if type(a.size) is int and type(a.pad) is int:
        # (r - 1)/2 - P as one division of integers: the float of the exact start, as
        # float(a.start) gives it, without building Fractions (a large report has many).
        return (a.size - 1 - 2 * a.pad) / 2
    return float(a.start)


def to_json(rf: RF | None) -> dict[str, list[int | float]] | None:
    """The JSON contract's ``receptive_field``: spatial axes only, start as a float."""
    if rf is None:
        return None
    axes = [a for a in rf if a is not None]
    if not axes:
        return None
    return {
        "size": [_json_num(a.size) for a in axes],
        "jump": [_json_num(a.jump) for a in axes],
        "start": [_json_start(a) for a in axes],
    }
