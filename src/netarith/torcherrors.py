"""Reading PyTorch's shape errors: what the numbers in the message mean, and what to change.

Each reader matches one message of torch 2.x (the tests trigger every one of them
in PyTorch and check that the fix proposed here makes the layer run):

* ``mat1 and mat2 shapes cannot be multiplied (2x1568 and 1050x10)``: a Linear
  with ``in_features=1050`` received rows of 1568 features;
* ``Given groups=1, weight of size [64, 3, 7, 7], expected input[1, 1, 224, 224]
  to have 3 channels, but got 1 channels instead`` (and the transposed variant);
* ``Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3).
  Kernel size can't be greater than actual input size``;
* ``Given input size: (480x1x1). Calculated output size: (480x0x0). Output size
  is too small`` (pooling), ``max_pool1d() Invalid computed output size: 0``;
* ``shape '[-1, 400]' is invalid for input of size 3136`` (view, reshape);
* ``Sizes of tensors must match except in dimension 1. Expected size 28 but got
  size 27 for tensor number 1 in the list`` (torch.cat of a skip connection);
* ``The size of tensor a (28) must match the size of tensor b (27) at
  non-singleton dimension 3`` (a residual add);
* ``output padding must be smaller than either stride or dilation, ...``;
* ``Padding size should be less than the corresponding input dimension`` (reflect);
* ``Expected more than 1 value per channel when training``;
* ``running_mean should contain 4 elements not 8`` (BatchNorm);
* ``Given normalized_shape=[8], expected input with shape [*, 8], but got input of size[2, 4]``.

Given the network (``source``), the answer also says which of its layers the
numbers point to, and the input sizes that work.

>>> a = read_error("mat1 and mat2 shapes cannot be multiplied (2x1568 and 1050x10)")
>>> a.facts["in_features_needed"], a.facts["rows"], a.fix
(1568, 2, 'nn.Linear(1568, 10)')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from ._values import field, frozen
from .errors import NetarithError, SpecError

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from .sources import Source

__all__ = ["ErrorAnswer", "read_error"]


@frozen(slots=False)
class ErrorAnswer:
    """What a PyTorch error says, in plain words, and what to change."""

    kind: str
    message: str
    facts: dict[str, Any]
    meaning: tuple[str, ...]
    fixes: tuple[str, ...]
    fix: str = ""  # the one-line replacement, when there is one
    network: tuple[str, ...] = field(default=())  # what the given network says about it

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "facts": self.facts, "meaning": list(self.meaning),
                "fixes": list(self.fixes), "fix": self.fix, "network": list(self.network)}

    def render(self) -> str:
        lines = [f"PyTorch says: {self.message}", "", "What it means:"]
        lines += [f"  {m}" for m in self.meaning]
        lines += ["", "What to change:"]
        lines += [f"  - {f}" for f in self.fixes]
        if self.network:
            lines += ["", "In this network:"]
            lines += [f"  {n}" for n in self.network]
        return "\n".join(lines) + "\n"


_Reader = Callable[[re.Match[str], str], ErrorAnswer]
_READERS: list[tuple[re.Pattern[str], _Reader]] = []


def _reads(pattern: str) -> Callable[[_Reader], _Reader]:
    def wrap(fn: _Reader) -> _Reader:
        _READERS.append((re.compile(pattern, re.S), fn))
        return fn

    return wrap


def read_error(message: str, source: Source | None = None, *, input: str | Sequence[int] | None = None,
               convention: str | None = None) -> ErrorAnswer:
    """Read a PyTorch error message; with the network (``source``), point at its layers."""
    text = " ".join(message.split())
    for pattern, reader in _READERS:
        match = pattern.search(text)
        if match:
            answer = reader(match, text)
            if source is not None:
                answer = _with_network(answer, source, input, convention)
            return answer
    raise SpecError(
        "netarith does not know this message. It reads PyTorch's shape errors: 'mat1 and mat2 shapes cannot "
        "be multiplied', 'expected input[...] to have N channels', 'Kernel size can't be greater than actual "
        "input size', 'Output size is too small', 'shape [...] is invalid for input of size', 'Sizes of "
        "tensors must match', 'The size of tensor a ... must match', 'output padding must be smaller', "
        "'Padding size should be less than', 'Expected more than 1 value per channel', 'running_mean should "
        "contain', 'Given normalized_shape'"
    )


def _ints(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"-?\d+", text)]


def _squares(features: int, limit: int = 4) -> list[str]:
    """``features`` as C x S x S with S >= 2, the largest maps first: how a flattened map could give it."""
    found = []
    for side in range(math.isqrt(features), 1, -1):
        if features % (side * side) == 0:
            found.append(f"{features // (side * side)}x{side}x{side}")
            if len(found) == limit:
                break
    return found


@_reads(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
def _matmul(m: re.Match[str], text: str) -> ErrorAnswer:
    rows, got, want, out = (int(g) for g in m.groups())
    shapes = _squares(got)
    meaning = [
        f"A Linear layer with in_features={want} (its weight, transposed, is {want}x{out}) received rows of "
        f"{got} features: {rows} row{'s' if rows != 1 else ''} of {got}.",
        f"The {rows} rows are the batch size when the input was (batch, features); for an input with more "
        f"axes PyTorch multiplies the leading ones together (batch x ...).",
    ]
    if shapes:
        meaning.append(f"{got} features is what flattening a map of {' or '.join(shapes)} (C x H x W) gives.")
    fixes = [
        f"make the layer nn.Linear({got}, {out}): in_features must be {got}, the size of the last axis it receives",
        "if the input was not flattened, flatten it first (nn.Flatten() or x.flatten(1)): in_features is then "
        "C x H x W of the map before it",
        "'netarith solve linear SOURCE' derives every Linear's in_features from the layers before it",
    ]
    return ErrorAnswer("linear_in_features", text, {"rows": rows, "in_features_given": got,
                                                    "in_features_needed": got, "in_features_declared": want,
                                                    "out_features": out}, tuple(meaning), tuple(fixes),
                       f"nn.Linear({got}, {out})")


@_reads(r"Given (groups|transposed)=(\d+), weight of size \[([\d, ]+)\], expected input\[([\d, ]+)\] "
        r"to have (\d+) channels, but got (\d+) channels instead")
def _channels(m: re.Match[str], text: str) -> ErrorAnswer:
    what, g, weight_text, input_text, want_text, got_text = m.groups()
    weight, shape = _ints(weight_text), _ints(input_text)
    want, got = int(want_text), int(got_text)
    rank = len(weight) - 2
    if what == "transposed":
        layer = f"ConvTranspose{rank}d"
        out = weight[1]
        fix = f"nn.{layer}({got}, {out}, kernel_size={_ks(weight[2:])})"
        meaning = [f"A {layer} with in_channels={want} (weight {weight_text}: in x out/groups x kernel) "
                   f"received an input of {got} channels (input {input_text})."]
        fixes = [f"set in_channels to {got}: {fix} (and the rest of its arguments as before)"]
    else:
        groups = int(g)
        layer = f"Conv{rank}d"
        per_group = weight[1]
        meaning = [f"A {layer} with in_channels={want} ({groups} group{'s' if groups != 1 else ''} of "
                   f"{per_group}, weight {weight_text}: out x in/groups x kernel) received an input with "
                   f"{got} channels (input [{input_text}], batch first)."]
        fix = f"nn.{layer}({got}, {weight[0]}, kernel_size={_ks(weight[2:])}" + (
            f", groups={groups})" if groups != 1 else ")")
        fixes = []
        if len(shape) == rank + 2 and shape[0] == 1 and got == 1 and shape[2] == want:
            fixes.append(f"the input looks unbatched and short of an axis: PyTorch read [{input_text}] as one "
                         f"sample; give {layer} a (batch, {want}, ...) tensor with {rank} spatial axes")
        if got % groups == 0:
            fixes.append(f"set in_channels to {got}: {fix} (keep the rest of its arguments)")
        else:
            fix = ""
            fixes.append(f"in_channels must be a multiple of groups={groups}; {got} is not: change groups too")
        if want == 3 and got == 1:
            fixes.append("or give it 3 channels: a grayscale image repeated, x.expand(-1, 3, -1, -1)")
    facts = {"layer": layer, "in_channels_declared": want, "in_channels_given": got, "weight": weight,
             "input": shape}
    return ErrorAnswer("conv_channels", text, facts, tuple(meaning), tuple(fixes), fix)


def _ks(kernel: list[int]) -> str:
    return str(kernel[0]) if len(set(kernel)) == 1 else str(tuple(kernel))


@_reads(r"Calculated padded input size per channel: \(([\d x]+)\)\. Kernel size: \(([\d x]+)\)\. "
        r"Kernel size can't be greater than actual input size")
def _kernel(m: re.Match[str], text: str) -> ErrorAnswer:
    padded, kernel = _ints(m.group(1)), _ints(m.group(2))
    short = [max(0, k - p) for p, k in zip(padded, kernel)]
    more = [math.ceil(s / 2) for s in short]
    meaning = [
        f"A convolution's (dilated) kernel {_x(kernel)} does not fit in its input, {_x(padded)} after padding: "
        f"short by {_x(short)} pixel(s). The input reaching that layer is too small.",
    ]
    fixes = [
        f"pad more: {_x(more)} more on each side of each axis gives {_x([p + 2 * x for p, x in zip(padded, more)])}",
        f"or use a kernel of at most {_x(padded)} there",
        "or feed a larger input: 'netarith sizes SOURCE' gives the smallest input every layer accepts",
    ]
    return ErrorAnswer("kernel_too_big", text, {"padded_input": padded, "kernel": kernel, "short": short},
                       tuple(meaning), tuple(fixes))


def _x(values: Sequence[int]) -> str:
    return "x".join(map(str, values))


@_reads(r"Given input size: \(([\dx]+)\)\. Calculated output size: \(([-\dx]+)\)\. Output size is too small")
def _too_small(m: re.Match[str], text: str) -> ErrorAnswer:
    given, calculated = _ints(m.group(1)), _ints(m.group(2))
    return _pool_answer(text, given[1:], calculated[1:], given[0])


@_reads(r"(max|avg)_pool(\d)d\(\) Invalid computed output size: (-?\d+)")
def _too_small_1d(m: re.Match[str], text: str) -> ErrorAnswer:
    return _pool_answer(text, [], [int(m.group(3))], None)


def _pool_answer(text: str, given: list[int], calculated: list[int], channels: int | None) -> ErrorAnswer:
    meaning = [
        (f"A pooling layer received a {_x(given)} map" if given else "A pooling layer received a map")
        + f" and its windows give {_x(calculated)}: no window fits, so the output would be empty.",
        "The network's input is too small for the downsampling before this layer.",
    ]
    fixes = [
        "feed a larger input: 'netarith sizes SOURCE' gives the smallest input every layer accepts",
        "or let the window hang over the edge (ceil_mode=True), or pad the pooling, or pool adaptively "
        "(nn.AdaptiveAvgPool2d) where the map is already small",
    ]
    facts: dict[str, Any] = {"input": given, "output": calculated}
    if channels is not None:
        facts["channels"] = channels
    return ErrorAnswer("pool_too_small", text, facts, tuple(meaning), tuple(fixes))


@_reads(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)")
def _view(m: re.Match[str], text: str) -> ErrorAnswer:
    wanted, total = _ints(m.group(1)), int(m.group(2))
    known = math.prod(v for v in wanted if v != -1)
    meaning = [f"view/reshape to [{m.group(1)}] needs a multiple of {known:,} elements, and the tensor has "
               f"{total:,} (batch included)."]
    per_batch = [(b, total // b) for b in (1, 2, 4, 8, 16, 32, 64) if total % b == 0][:5]
    if per_batch:
        meaning.append("Per sample that is " + ", ".join(f"{n:,} at batch {b}" for b, n in per_batch)
                       + (f" ({' or '.join(_squares(per_batch[0][1], 2))} per sample at batch {per_batch[0][0]})"
                          if _squares(per_batch[0][1], 2) else "") + ".")
    fixes = [
        "flatten per sample instead of guessing the size: x.view(x.size(0), -1) or nn.Flatten()",
        "then give the next Linear in_features = the elements per sample ('netarith solve linear SOURCE')",
    ]
    return ErrorAnswer("view", text, {"shape": wanted, "elements": total, "multiple_of": known},
                       tuple(meaning), tuple(fixes))


@_reads(r"Sizes of tensors must match except in dimension (\d+)\. Expected size (\d+) but got size (\d+) "
        r"for tensor number (\d+) in the list")
def _cat(m: re.Match[str], text: str) -> ErrorAnswer:
    dim, want, got, index = (int(g) for g in m.groups())
    meaning = [
        f"torch.cat along dim {dim} needs every other axis equal; tensor {index} has {got} where the first has "
        f"{want}.",
        "In an encoder-decoder this is a skip connection: an odd size was halved (rounding down) and doubled "
        "back, losing a pixel.",
    ]
    fixes = [
        "feed an input whose size every downsampling divides: 'netarith sizes SOURCE' lists the exact inputs",
        f"or pad the smaller tensor by {abs(want - got)} (F.pad) or crop the larger one before the cat",
        "or give the upsampling ConvTranspose output_padding=1 where the size was odd "
        "('netarith solve output-padding')",
    ]
    return ErrorAnswer("cat_sizes", text, {"dim": dim, "expected": want, "got": got, "tensor": index},
                       tuple(meaning), tuple(fixes))


@_reads(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)")
def _add(m: re.Match[str], text: str) -> ErrorAnswer:
    a, b, dim = (int(g) for g in m.groups())
    meaning = [
        f"An elementwise operation (a residual add, a multiply) got sizes {a} and {b} along dim {dim}, "
        "which neither match nor are 1.",
        "In a residual block the shortcut and the main path downsample differently (stride, padding or "
        "rounding), or the input size is odd where a stride-2 layer halves it.",
    ]
    fixes = [
        "give the shortcut the main path's stride (a 1x1 conv with the same stride) and 'same'-style padding "
        "on the main path (p = k // 2)",
        "or feed an input size every stride divides: 'netarith sizes SOURCE' lists the exact inputs",
    ]
    return ErrorAnswer("broadcast", text, {"a": a, "b": b, "dim": dim}, tuple(meaning), tuple(fixes))


@_reads(r"output padding must be smaller than either stride or dilation, but got (.*)")
def _output_padding(m: re.Match[str], text: str) -> ErrorAnswer:
    values = dict(re.findall(r"(\w+): (\d+)", m.group(1)))
    axes = [a for a in ("depth", "height", "width") if f"output_padding_{a}" in values]
    ops = [int(values[f"output_padding_{a}"]) for a in axes]
    strides = [int(values[f"stride_{a}"]) for a in axes]
    dilations = [int(values.get(f"dilation_{a}", 1)) for a in axes]
    limit = [max(s, d) - 1 for s, d in zip(strides, dilations)]
    meaning = [f"output_padding {_x(ops)} must be smaller than the stride {_x(strides)} or the dilation "
               f"{_x(dilations)} on each axis: at most {_x(limit)} here.",
               "output_padding only picks among the sizes the matching convolution maps to the same output; "
               "a larger output needs less padding (or a larger kernel) instead."]
    fixes = [f"use output_padding of at most {_x(limit)}, and reduce padding to grow the output",
             "'netarith solve output-padding --in I --out O --kernel K --stride S --padding P' finds the "
             "padding and output_padding pairs that give O"]
    return ErrorAnswer("output_padding", text, {"output_padding": ops, "stride": strides, "dilation": dilations,
                                                "max_output_padding": limit}, tuple(meaning), tuple(fixes))


@_reads(r"Padding size should be less than the corresponding input dimension, but got: padding \((\d+), (\d+)\) "
        r"at dimension (\d+) of input \[([\d, ]+)\]")
def _reflect(m: re.Match[str], text: str) -> ErrorAnswer:
    before, after, dim = int(m.group(1)), int(m.group(2)), int(m.group(3))
    shape = _ints(m.group(4))
    size = shape[dim]
    meaning = [f"Reflect padding mirrors the input, so it needs padding < input size: padding ({before}, {after}) "
               f"on a size of {size} (dim {dim} of input [{m.group(4)}])."]
    fixes = [f"use reflect padding of at most {size - 1} there, or padding_mode='replicate' or 'zeros'",
             "or feed a larger input ('netarith sizes SOURCE')"]
    return ErrorAnswer("reflect_padding", text, {"padding": [before, after], "size": size, "dim": dim},
                       tuple(meaning), tuple(fixes))


@_reads(r"Expected more than 1 value per channel when training, got input size torch.Size\(\[([\d, ]+)\]\)")
def _one_value(m: re.Match[str], text: str) -> ErrorAnswer:
    shape = _ints(m.group(1))
    meaning = [f"BatchNorm in training mode averages over the batch and the positions; input [{m.group(1)}] "
               "gives it a single value per channel, whose variance is undefined."]
    fixes = ["call model.eval() for inference (BatchNorm then uses its running statistics)",
             "or train with a batch larger than 1, or a larger input so the map is not 1x1 here"]
    return ErrorAnswer("batchnorm_one_value", text, {"input": shape}, tuple(meaning), tuple(fixes))


@_reads(r"running_mean should contain (\d+) elements not (\d+)")
def _bn_channels(m: re.Match[str], text: str) -> ErrorAnswer:
    got, declared = int(m.group(1)), int(m.group(2))
    meaning = [f"A BatchNorm with num_features={declared} received {got} channels."]
    fix = f"num_features={got}"
    fixes = [f"set num_features to {got} (nn.BatchNorm1d/2d/3d({got}) as before): the channels of the layer "
             "before it"]
    return ErrorAnswer("batchnorm_channels", text, {"num_features_declared": declared, "channels": got},
                       tuple(meaning), tuple(fixes), fix)


@_reads(r"Given normalized_shape=\[([\d, ]+)\], expected input with shape \[\*, ([\d, ]+)\], "
        r"but got input of size\s?\[([\d, ]+)\]")
def _layer_norm(m: re.Match[str], text: str) -> ErrorAnswer:
    declared, shape = _ints(m.group(1)), _ints(m.group(3))
    needed = shape[-len(declared):]
    meaning = [f"LayerNorm({declared}) normalises the last {len(declared)} ax{'es' if len(declared) > 1 else 'is'}, "
               f"which are {needed} in the input [{m.group(3)}]."]
    fix = f"nn.LayerNorm({needed if len(needed) > 1 else needed[0]})"
    return ErrorAnswer("layernorm_shape", text, {"normalized_shape": declared, "input": shape, "needed": needed},
                       tuple(meaning), (f"use {fix}",), fix)


# ----------------------------------------------------------------------------- with the network


def _with_network(answer: ErrorAnswer, source: Source, input: str | Sequence[int] | None,
                  convention: str | None) -> ErrorAnswer:
    from .sources import load

    graph = load(source)
    if input is not None:
        graph = graph.with_input(input)
    notes: list[str] = []
    if answer.kind == "linear_in_features":
        notes += _linear_notes(graph, answer, convention)
    elif answer.kind in ("kernel_too_big", "pool_too_small", "cat_sizes", "broadcast", "reflect_padding"):
        notes += _size_notes(graph, convention)
    if not notes:
        return answer
    return ErrorAnswer(answer.kind, answer.message, answer.facts, answer.meaning, answer.fixes, answer.fix,
                       tuple(notes))


def _linear_notes(graph: Any, answer: ErrorAnswer, convention: str | None) -> list[str]:
    from .solve import linear

    try:
        found = linear(graph, convention=convention)
    except NetarithError as exc:
        return [f"netarith cannot analyse it at its input: {exc}"]
    notes = []
    for a in found:
        if a.out_features != answer.facts["out_features"]:
            continue
        line = f"{a.layer} receives {a.in_features:,} features at the input {graph.inputs[0].op.shape}"
        if a.steps:
            last = a.steps[-1]
            line += f" ({a.source}: {last.formula} = {last.numbers} = {last.result})"
        if a.closed_form:
            line += f"; as a function of the input size: {a.closed_form}"
        notes.append(line + f"; write {a.torch}")
    return notes or [f"no linear layer with {answer.facts['out_features']} outputs in this network"]


def _size_notes(graph: Any, convention: str | None) -> list[str]:
    from .sizes import sizes

    try:
        s = sizes(graph, convention=convention)
    except NetarithError as exc:
        return [f"netarith cannot size it from its input: {exc}"]
    axes = ", ".join(s.model.variables)
    notes = [f"the smallest input every layer accepts is {_x(s.min_input)} ({axes}): "
             + "; ".join(f"{a}: {why}" for a, why in s.limits.items())]
    for a in s.model.variables:
        lo, hi = s.nearest_exact[a]
        notes.append(f"{a}: the nearest sizes where no window drops or invents a pixel: "
                     f"{lo if lo is not None else '-'} and {hi if hi is not None else '-'}")
    return notes
