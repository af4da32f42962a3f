"""Sliding windows on every spatial axis: what convolution and pooling share.

Resolves 'same'/'valid' into explicit padding under the active convention,
counts the windows per axis (``arith.window_count``), refuses windows that do not
fit, and words the warnings about what the rounding lost or invented.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._values import field, frozen
from ..arith import same_padding, window_count
from ..conventions import Clip, Rounding
from ..errors import ShapeError
from ..receptive import Windows
from ..shape import Shape
from ..sizerules import DimRule, SameWindow, Window
from .base import Context, Padding, expand, expand_padding

__all__ = ["Slide", "axis_phrase", "pixels", "slide"]

_NOUNS = {"L": "sample", "D": "frame", "H": "row", "W": "column"}


@frozen
class Slide:
    """The result of sliding a window over each spatial axis."""

    out: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    k_eff: tuple[int, ...]  # the dilated kernel, d * (k - 1) + 1
    pads: tuple[tuple[int, int], ...]  # explicit (before, after), 'same' resolved
    overhang: tuple[int, ...]  # implicit end padding added by rounding up
    warnings: tuple[str, ...]
    rules: tuple[DimRule, ...] = ()  # how each spatial output follows from the input size
    #: the receptive-field rule: (k_eff, stride, left padding) per axis (made with the slide, which
    #: the layers alike share, rather than again for each)
    rf: Windows = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rf", Windows(tuple([(ke, s, p[0]) for ke, s, p in zip(self.k_eff, self.stride,
                                                                                        self.pads)])))


def slide(
    kind: str,
    x: Shape,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Padding,
    dilation: tuple[int, ...],
    rounding: Rounding,
    clip: Clip,
    ctx: Context,
    *,
    same_style: str,
    why_rounding: str,
) -> Slide:
    """Slide a window over ``x``; raise ShapeError where it does not fit."""
    if ctx.trace is not None:
        return _slide(kind, x, kernel, stride, padding, dilation, rounding, clip, ctx, same_style, why_rounding)
    # Layers of different widths often slide the same window over the same map (ResNet's 1x1 and
    # 3x3 convolutions at each size): the result depends on the spatial sizes, not the channels.
    key = ("slide", kind, x.spatial, kernel, stride, padding, dilation, rounding, clip, same_style,
           why_rounding, ctx.convention.name)
    known = ctx.memo.get(key)
    if known is None:
        known = ctx.memo[key] = _slide(kind, x, kernel, stride, padding, dilation, rounding, clip, ctx,
                                       same_style, why_rounding)
    return known  # type: ignore[return-value]


def _slide(kind: str, x: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], padding: Padding,
           dilation: tuple[int, ...], rounding: Rounding, clip: Clip, ctx: Context, same_style: str,
           why_rounding: str) -> Slide:
    rank = x.rank
    if rank < 1:
        raise ShapeError(
            f"{kind} needs spatial axes, but its input {x} is a vector; "
            f"write the input as channels x size (e.g. 1x{x.channels})"
        )
    k = expand(kind, "kernel", kernel, rank)
    s = expand(kind, "stride", stride, rank)
    d = expand(kind, "dilation", dilation, rank)
    sizes = x.spatial
    axes = x.axis_names()
    if padding == "valid":
        pads: tuple[tuple[int, int], ...] = ((0, 0),) * rank
    elif padding == "same":
        if same_style != "tensorflow" and any(v != 1 for v in s):
            raise ShapeError(
                f"padding 'same' is not supported for strided {kind} under the {ctx.convention.name} "
                f"convention (stride {'x'.join(map(str, s))}; PyTorch refuses it too); write the padding "
                "out, or use --convention tensorflow, where 'same' gives ceil(i/s)"
            )
        pads = tuple(same_padding(i, kk, ss, dd, same_style, trace=ctx.trace, axis=axis)
                     for axis, i, kk, ss, dd in zip(axes, sizes, k, s, d))
    else:
        pads = expand_padding(kind, padding, rank)  # type: ignore[arg-type]
    k_eff = tuple([dd * (kk - 1) + 1 for kk, dd in zip(k, d)])
    # Rounding down, a window must fit; rounding up, one that hangs past the end
    # still counts (PyTorch's ceil_mode and Caffe accept a 3-wide pool on 2 pixels).
    if rounding == "floor" and any([i + pb + pa < ke for i, (pb, pa), ke in zip(sizes, pads, k_eff)]):
        raise ShapeError(_too_big(kind, k, d, k_eff, sizes, pads))
    outs = []
    lost: dict[str, int] = {}
    overhangs: dict[str, int] = {}
    remainders: dict[str, tuple[int, int]] = {}
    rounded_down: dict[str, int] = {}
    for axis, i, kk, ss, (pb, pa), dd in zip(axes, sizes, k, s, pads, d):
        count = window_count(i, kk, ss, pb, pa, dd, rounding, clip, trace=ctx.trace, axis=axis)
        if count.out < 1 and count.span < 0:
            raise ShapeError(_too_big(kind, k, d, k_eff, sizes, pads))
        if count.out < 1:
            raise ShapeError(
                f"output size is too small: {axis} = {count.out} for input {x} "
                f"(kernel {kk}, stride {ss}, padding {pb}+{pa})"
            )
        outs.append(count.out)
        if count.lost:
            lost[axis] = count.lost
            remainders[axis] = (count.span, ss)
        if count.overhang:
            overhangs[axis] = count.overhang
            rounded_down[axis] = count.span // ss + 1 if count.span >= 0 else 0
    if padding == "same" and same_style == "tensorflow":
        rules: tuple[DimRule, ...] = tuple([SameWindow(n, kk, ss, dd)
                                            for n, kk, ss, dd in zip(range(1, rank + 1), k, s, d)])
    else:
        rules = tuple([Window(n, kk, ss, pb, pa, dd, rounding, clip)
                       for n, kk, ss, (pb, pa), dd in zip(range(1, rank + 1), k, s, pads, d)])
    warnings = []
    if lost:
        warnings.append(_lost_warning(kind, lost, remainders, sizes, axes))
    if overhangs:
        warnings.append(_overhang_warning(kind, overhangs, rounded_down, dict(zip(axes, outs)),
                                          sizes, axes, pads, why_rounding))
    overhang = tuple([overhangs.get(a, 0) for a in axes]) if overhangs else (0,) * rank
    return Slide(tuple(outs), k, s, d, k_eff, pads, overhang, tuple(warnings), rules)


def _too_big(kind: str, k: tuple[int, ...], d: tuple[int, ...], k_eff: tuple[int, ...],
             sizes: tuple[int, ...], pads: tuple[tuple[int, int], ...]) -> str:
    padded = "x".join(str(i + pb + pa) for i, (pb, pa) in zip(sizes, pads))
    what = f"kernel {_compact(k)}"
    if any(v != 1 for v in d):
        what = f"dilated kernel {'x'.join(map(str, k_eff))} ({what}, dilation {_compact(d)})"
    pad_note = ""
    if any(pb or pa for pb, pa in pads):
        pad_note = f" (input {'x'.join(map(str, sizes))} with its padding)"
    return (
        f"{what} is larger than the padded input {padded}{pad_note}; "
        f"{kind} needs at least {'x'.join(str(max(ke - pb - pa, 1)) for ke, (pb, pa) in zip(k_eff, pads))} "
        "here: use a larger input, more padding or a smaller kernel"
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _compact(values: tuple[int, ...]) -> str:
    """'3' when every axis has the same value, else '3x5'."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def axis_phrase(amounts: dict[str, int]) -> str:
    """'1 row and column', '2 columns', '1 row and 2 columns'."""
    nouns = [_NOUNS.get(a, f"{a} position") for a in amounts]
    values = list(amounts.values())
    if len(set(values)) == 1:
        n = values[0]
        names = [noun + ("s" if n != 1 and len(nouns) == 1 else "") for noun in nouns]
        return f"{n} {_join(names)}"
    parts = [f"{v} {noun}{'s' if v != 1 else ''}" for noun, v in zip(nouns, values)]
    return _join(parts)


def pixels(amounts: dict[str, int]) -> str:
    """'3 pixels (H and W)', '2 pixels (H) and 1 pixel (W)'."""
    values = list(amounts.values())
    if len(set(values)) == 1:
        n = values[0]
        return f"{n} pixel{'s' if n != 1 else ''} ({_join(list(amounts))})"
    return _join([f"{v} pixel{'s' if v != 1 else ''} ({a})" for a, v in amounts.items()])


def _join(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _lost_warning(kind: str, lost: dict[str, int], remainders: dict[str, tuple[int, int]],
                  sizes: tuple[int, ...], axes: tuple[str, ...]) -> str:
    by_axis = dict(zip(axes, sizes))
    rems = {a: span % s for a, (span, s) in remainders.items()}
    more = {a: remainders[a][1] - r for a, r in rems.items()}
    upper = {a: by_axis[a] + m for a, m in more.items()}
    lower = {a: by_axis[a] - n for a, n in lost.items()}
    facts = {
        f"input + padding - kernel = {span} is not a multiple of the stride {s}"
        for span, s in remainders.values()
    }
    one = len(lost) == 1 and sum(lost.values()) == 1
    return (
        f"the last {axis_phrase(lost)} of the input never reach{'es' if one else ''} {_article(kind)} {kind} window "
        f"({'; '.join(sorted(facts))}): {'it does' if one else 'they do'} not affect the output at all. "
        f"To use every pixel: a {_sizes(upper, by_axis)} or {_sizes(lower, by_axis)} input to this layer, "
        f"or {pixels(more)} more padding at the end ('netarith sizes' lists the network inputs "
        "where every layer fits exactly)"
    )


def _overhang_warning(kind: str, overhangs: dict[str, int], rounded_down: dict[str, int],
                      outs: dict[str, int], sizes: tuple[int, ...], axes: tuple[str, ...],
                      pads: tuple[tuple[int, int], ...], why: str) -> str:
    by_axis = dict(zip(axes, sizes))
    where = {a: by_axis[a] + n for a, n in overhangs.items()}
    if kind == "conv":
        effect = (f"it multiplies {'zeros' if max(overhangs.values()) > 1 else 'a zero'} there, "
                  "an implicit padding at the end that the layer does not declare")
    else:
        effect = "that window pools only the pixels that exist"
    ends = [f"{pb}+{pa + overhangs.get(a, 0)}" for a, (pb, pa) in zip(axes, pads)]
    pad_to = "p" + (ends[0] if len(set(ends)) == 1 else "x".join(ends))
    return (
        f"the last {kind} window hangs {pixels(overhangs)} past the end of the input ({why}): "
        f"{effect}. Rounding down (PyTorch, Caffe, TensorFlow) would give "
        f"{_dims(rounded_down.get(a, outs[a]) for a in axes)} here; to keep {_dims(outs.values())} "
        f"with every window inside the input: a {_sizes(where, by_axis)} input to this layer, "
        f"or the padding written out ({pad_to}, before+after)"
    )


def _dims(values: Iterable[int]) -> str:
    return "x".join(map(str, values))


def _sizes(changed: dict[str, int], by_axis: dict[str, int]) -> str:
    return "x".join(str(changed.get(a, v)) for a, v in by_axis.items())
