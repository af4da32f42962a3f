"""What other counting tools would print for a network, and why it differs.

torchinfo, fvcore, ptflops and thop each count a network's "FLOPs" or "MACs" with
their own rules; for ResNet-50 they print four different totals. :func:`count`
reproduces one tool's total from a :class:`~netarith.Report` (batch 1, eval mode),
as netarith's MACs plus labelled line items: bias adds, normalisation,
activations, pooling, elementwise adds, the output side of transposed
convolutions, layers the tool does not see. :func:`reconcile` does it for all.

The rules, read from each release's source (facts, not code, carried over):

* torchinfo 1.8.0, "Total mult-adds": per call of a leaf module with parameters,
  ``(weight + bias elements) * batch * output positions`` if the class name contains
  "Conv" (so a transposed conv is counted on the output side), else
  ``(weight + bias elements) * batch``: a Linear layer counts one row, whatever the
  number of rows. Functions (``x + y``, ``F.linear``) are not seen.
* fvcore 0.1.5, ``FlopCountAnalysis(...).total()``: per traced aten op: conv
  (transposed on the input side), linear, matmul, bmm, einsum without bias; batch
  norm ``numel * (2 if affine else 1)`` in eval; group, layer and instance norm
  ``numel * (5 if affine else 4)``; nearest 2d upsampling 1, bilinear 2d 4 per output;
  ``adaptive_avg_pool2d`` 1 per input; everything else (ReLU, max pooling, adds,
  attention) nothing. A convolution with ``padding='same'`` or ``'valid'`` traces as
  ``aten::_convolution_mode``, which it does not count at all.
* ptflops 0.7.5, default backend ("pytorch"): module hooks by exact class (conv and
  linear with bias, ReLU/PReLU/ELU/ReLU6/LeakyReLU/GELU per output, pooling per
  input, batch/instance/group norm ``numel * (2 if affine)``, layer norm ``numel``,
  upsample per output) plus patched functions (``F.relu``, ``F.gelu``, ``F.silu``,
  pooling and ``F.softmax`` per input, ``F.interpolate`` per output, ``torch.matmul``,
  ``torch.add``/``Tensor.add``, ``torch.mul``/``Tensor.mul``; not ``x + y``).
  ``nn.ReLU``, pooling modules, ``nn.GELU`` and ``nn.Upsample`` call patched functions
  inside, so ptflops counts them twice; ``nn.LocalResponseNorm`` is counted only through
  the patched functions it calls; ``nn.MultiheadAttention`` has its own formula.
  ``ptflops-aten`` is its other backend: conv, mm, bmm and addmm at the aten level,
  bias included.
* thop 0.1.1, ``profile``: module hooks by exact class: conv ``numel(out) * Cin/g * k``
  without bias (output side for transposed), linear without bias, batch/layer/instance
  norm ``2 * numel`` (twice that if affine), PReLU per element, softmax, average
  pooling per output, adaptive average pooling ``(kernel + 1)`` per output, upsample
  by mode; ReLU and max pooling nothing; functions not seen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

from ._values import frozen
from .analyze import LayerResult, Report
from .errors import NetarithError, SpecError, did_you_mean
from .ops.base import Context
from .shape import Shape

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ITEMS", "TOOLS", "Count", "count", "describe", "reconcile", "render"]

#: tool -> (release, what it calls its total)
TOOLS: dict[str, tuple[str, str]] = {
    "torchinfo": ("1.8.0", "Total mult-adds"),
    "fvcore": ("0.1.5", "FlopCountAnalysis.total()"),
    "ptflops": ("0.7.5", "MACs, default (pytorch) backend"),
    "ptflops-aten": ("0.7.5", "MACs, aten backend"),
    "thop": ("0.1.1", "profile() MACs"),
}

BIAS = "bias adds"
NORM = "normalisation"
ACT = "activations"
POOL = "pooling"
ELT = "elementwise adds and products"
SOFTMAX = "softmax"
UPSAMPLE = "upsampling"
CONVT = "transposed conv on the output side"
ROWS = "linear layers counted for one row"
TWICE = "counted twice (module hook and patched function)"
UNSEEN = "layers it does not see"
ATTENTION = "attention scaling and softmax"
EINSUM = "einsum rounded to 4 digits (numpy's report)"

#: line items in the order the reconcile table lists them
ITEMS = (BIAS, NORM, ACT, POOL, ELT, SOFTMAX, UPSAMPLE, CONVT, ROWS, TWICE, ATTENTION, EINSUM, UNSEEN)

_NORMS = {"bn", "gn", "ln", "instancenorm", "lrn", "scale"}
_POOLS = {"maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool", "globalavgpool", "globalmaxpool", "reduce"}
_ELEMENTWISE = {"add", "mul", "elementwise"}


@frozen(slots=False)
class Count:
    """One tool's total for a network, as netarith's MACs plus line items."""

    tool: str
    release: str
    total: int
    macs: int  # netarith's MACs (the common core)
    items: dict[str, int]  # label -> amount added (negative: left out)

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "release": self.release, "total": self.total, "macs": self.macs,
                "items": {k: v for k, v in self.items.items() if v}}


@frozen(slots=False)
class _Layer:
    """What the rules read about one layer."""

    result: LayerResult
    form: str  # "module", "function", "tensor", "input"
    name: str  # the module class or the function (``Conv2d``, ``F.relu``)
    ins: tuple[Shape, ...]
    source_kind: str = ""  # the kind of its first input
    within: str = ""  # for a function: the leaf module class it ran in, if any

    @property
    def kind(self) -> str:
        return self.result.kind

    @property
    def out(self) -> int:
        return self.result.shape.numel

    @property
    def inp(self) -> int:
        return self.ins[0].numel if self.ins else 0

    def arg(self, name: str, default: Any = None) -> Any:
        return getattr(self.result.node.op, name, default)


# -- how the layer exists in PyTorch ------------------------------------------------------

_CALLS = (
    ("scaled_dot_product_attention", "F.scaled_dot_product_attention"),
    ("torch.einsum", "torch.einsum"),
    ("torch.matmul", "torch.matmul"),
    ("torch.cat", "torch.cat"),
    (" + ", "Tensor.__add__"),
    (" * ", "Tensor.__mul__"),
)


def _form(result: LayerResult, report: Report, ins: tuple[Shape, ...]) -> tuple[str, str]:
    """The node's origin if an importer recorded it, else how ``to_torch`` builds it."""
    if result.kind == "input":
        return "input", ""
    origin = result.node.origin
    if origin:
        form, _, name = origin.partition(":")
        return form, name.partition("@")[0]
    try:
        emit = result.node.op.torch(ins, result.shape, Context(report.convention))
    except NetarithError:
        return "function", result.kind
    if emit.module is not None:
        if emit.module.startswith("nn.Parameter"):
            return "tensor", ""
        classes = [c for c in re.findall(r"nn\.(\w+)\(", emit.module)
                   if c != "Sequential" and not re.fullmatch(r"\w*Pad\dd", c)]
        return ("module", classes[-1]) if classes else ("function", result.kind)
    for text, api in _CALLS:
        if text in emit.call:
            return "function", api
    return "function", result.kind


def _layers(report: Report) -> list[_Layer]:
    shapes = {r.name: r.shape for r in report}
    kinds = {r.name: r.kind for r in report}
    layers = []
    for r in report:
        if r.node.train_only:
            continue  # eval mode: the tools do not run it
        ins = tuple(shapes[n] for n in r.inputs)
        form, name = _form(r, report, ins)
        within = (r.node.origin or "").partition("@")[2]
        layers.append(_Layer(r, form, name, ins, kinds[r.inputs[0]] if r.inputs else "", within))
    return layers


def _category(kind: str) -> str:
    if kind in _NORMS:
        return NORM
    if kind in _POOLS:
        return POOL
    if kind in _ELEMENTWISE:
        return ELT
    if kind in ("softmax", "logsoftmax"):
        return SOFTMAX
    if kind == "upsample":
        return UPSAMPLE
    return ACT


def _spatial(shape: Shape) -> int:
    return math.prod(shape.spatial)


def _unseen(layer: _Layer) -> dict[str, Fraction]:
    return {UNSEEN: Fraction(-layer.result.macs)} if layer.result.macs else {}


def _bias(layer: _Layer) -> int:
    return layer.out if layer.arg("bias", False) is True else 0


# -- the tools ------------------------------------------------------------------------------

def _torchinfo(layer: _Layer) -> dict[str, Fraction]:
    r = layer.result
    if layer.form == "function" and layer.within and r.params:
        # A call inside a leaf module netarith traced (torchvision's LayerNorm2d): torchinfo
        # counts that module's parameters once, as for any leaf module.
        return {_category(layer.kind) if not r.macs else UNSEEN: Fraction(r.params - r.macs)}
    if layer.form != "module" or r.params == 0:
        return _unseen(layer)
    if "Conv" in layer.name:
        positions = _spatial(r.shape)
        total = r.params * positions
        if layer.kind == "convT":
            bias = r.shape.channels * positions if layer.arg("bias") else 0
            return {CONVT: Fraction((r.params - (r.shape.channels if layer.arg("bias") else 0)) * positions - r.macs),
                    BIAS: Fraction(bias)}
        label = BIAS if layer.kind == "conv" else _category(layer.kind)
        return {label: Fraction(total - r.macs)}
    if layer.kind == "linear":
        bias = r.shape.dims[-1] if layer.arg("bias") else 0
        return {BIAS: Fraction(bias), ROWS: Fraction(r.params - bias - r.macs)}
    return {_category(layer.kind) if not r.macs else UNSEEN: Fraction(r.params - r.macs)}


def _fvcore(layer: _Layer) -> dict[str, Fraction]:
    kind, n = layer.kind, layer.out
    if kind == "attention":
        return _unseen(layer)
    if kind == "conv" and isinstance(layer.arg("padding"), str):
        return _unseen(layer)  # padding='same'/'valid' traces as aten::_convolution_mode, which it skips
    if kind == "bn":
        if not layer.arg("stats", True):  # no running statistics: normalised with batch statistics
            return {NORM: Fraction(n * (5 if layer.arg("affine") else 4))}
        return {NORM: Fraction(n * (2 if layer.arg("affine") else 1))}
    if kind in ("gn", "ln", "instancenorm"):
        return {NORM: Fraction(n * (5 if layer.arg("affine") else 4))}
    if kind == "upsample" and layer.result.shape.rank == 2:
        per = {"nearest": 1, "bilinear": 4}.get(layer.arg("mode"), 0)
        return {UPSAMPLE: Fraction(per * n)}
    if kind in ("adaptiveavgpool", "globalavgpool") and layer.result.shape.rank == 2:
        return {POOL: Fraction(layer.inp)}
    if kind == "einsum" and len(layer.ins) == 2:
        return _fvcore_einsum(layer)
    return {}


def _fvcore_einsum(layer: _Layer) -> dict[str, Fraction]:
    """fvcore counts two equations itself; any other it reads from numpy's ``einsum_path``
    report, printed to four significant digits, then halves and floors."""
    lhs, _, rhs = layer.arg("equation").partition("->")
    batch = next(c for c in "zyxwvutsrqponmlkjihgfedcba" if c not in lhs + rhs)
    full = ",".join(batch + term for term in lhs.split(",")) + "->" + batch + rhs
    order = {c: chr(97 + i) for i, c in enumerate(dict.fromkeys(ch for ch in full if ch.isalpha()))}
    canonical = "".join(order.get(ch, ch) for ch in full)
    if canonical in ("abc,abd->acd", "abc,adc->adb"):
        return {}
    inner = bool(set(lhs.replace(",", "")) - set(rhs))
    cost = layer.result.macs * (2 if inner else 1)
    return {EINSUM: Fraction(math.floor(float(f"{cost:.3e}") / 2) - layer.result.macs)}


_HOOKED_ACT = {"ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU"}
_PATCHED_INSIDE = {"ReLU", "PReLU", "ELU", "GELU"}  # their forward calls a patched F.* function
_POOL_CLASSES = r"(Adaptive)?(Max|Avg)Pool[123]d"  # compiled when first used (re caches it): start-up
_PT_FUNCTIONS = {"F.relu", "F.prelu", "F.elu", "F.relu6", "F.gelu", "F.silu"}
_PT_POOLS = r"F\.(adaptive_)?(avg|max)_pool[123]d"
_PT_PRODUCTS = {"torch.matmul", "Tensor.matmul", "torch.mm", "Tensor.mm", "torch.bmm", "Tensor.bmm"}
_PT_ELEMENTWISE = {"torch.mul", "Tensor.mul", "torch.add", "Tensor.add"}


def _interpolated(layer: _Layer) -> Fraction:
    """ptflops' count for ``F.interpolate``: the output size from the size or the scale."""
    size, scale = layer.arg("size"), layer.arg("scale")
    x = layer.ins[0]
    if size is not None:
        sizes = size * x.rank if len(size) == 1 else size
        return Fraction(math.prod(sizes) * x.channels)
    factors = scale * x.rank if len(scale) == 1 else scale
    return Fraction(x.numel) * math.prod(Fraction(float(f)) for f in factors)


def _lrn(layer: _Layer) -> Fraction:
    """``F.local_response_norm`` calls patched functions: x*x, an average pool over the
    channels padded by size - 1, then a multiply and an add by scalars."""
    x = layer.ins[0]
    padded = (x.channels + layer.arg("size") - 1) * math.prod(x.spatial)
    return Fraction(3 * x.numel + padded)


def _multi_head(layer: _Layer) -> dict[str, Fraction]:
    """ptflops' own formula for ``nn.MultiheadAttention`` (read from the importer's nodes):
    the projections with their biases (the output one always), the scaling of the queries
    and the softmax on top of netarith's products."""
    if layer.kind == "attention":
        q, k = layer.ins[0], layer.ins[1]
        length, width, keys = q.dims[-2], q.dims[-1], k.dims[-2]
        entries = math.prod(q.dims[:-2])
        return {ATTENTION: Fraction(entries * (length * width + (layer.arg("heads") or 1) * length * keys))}
    if layer.kind == "linear":
        out_proj = layer.result.inputs and layer.source_kind == "attention"
        return {BIAS: Fraction(layer.out if out_proj or layer.arg("bias") else 0)}
    return {}


def _ptflops(layer: _Layer) -> dict[str, Fraction]:
    _kind, name, _r = layer.kind, layer.name, layer.result
    if name == "F.multi_head_attention_forward":
        return _multi_head(layer)
    if name in ("LocalResponseNorm", "F.local_response_norm"):
        return {NORM: _lrn(layer)}
    if layer.form == "module":
        if re.fullmatch(r"Conv(Transpose)?[123]d", name):
            return {BIAS: Fraction(_bias(layer))}
        if name == "Linear":
            return {BIAS: Fraction(_bias(layer))}
        if name in _HOOKED_ACT:
            twice = {TWICE: Fraction(layer.inp)} if name in _PATCHED_INSIDE else {}
            return {ACT: Fraction(layer.out), **twice}
        if name == "SiLU":
            return {ACT: Fraction(layer.inp)}
        if name == "Softmax":
            return {SOFTMAX: Fraction(layer.inp)}
        if re.fullmatch(_POOL_CLASSES, name):
            return {POOL: Fraction(layer.inp), TWICE: Fraction(layer.inp)}
        if re.fullmatch(r"(BatchNorm|InstanceNorm)[123]d|GroupNorm", name):
            return {NORM: Fraction(layer.inp * (2 if layer.arg("affine") else 1))}
        if name == "LayerNorm":
            return {NORM: Fraction(layer.inp)}  # no 'affine' attribute: counted once
        if name == "Upsample":
            return {UPSAMPLE: Fraction(layer.out), TWICE: _interpolated(layer)}
        return _unseen(layer)
    if layer.form != "function":
        return {}
    if name in _PT_FUNCTIONS:
        return {ACT: Fraction(layer.inp)}
    if re.fullmatch(_PT_POOLS, name):
        return {POOL: Fraction(layer.inp)}
    if name == "F.softmax":
        return {SOFTMAX: Fraction(layer.inp)}
    if name in ("F.interpolate", "F.upsample"):
        return {UPSAMPLE: _interpolated(layer)}
    if name in _PT_PRODUCTS:
        return {}
    if name in _PT_ELEMENTWISE:
        return {ELT: Fraction(layer.out if len(layer.ins) > 1 else layer.inp)}
    return _unseen(layer)


def _ptflops_aten(layer: _Layer) -> dict[str, Fraction]:
    kind = layer.kind
    if kind in ("conv", "convT", "linear"):
        return {BIAS: Fraction(_bias(layer))}
    if kind == "attention":
        return _unseen(layer)
    return {}


_THOP_NORMS = r"(BatchNorm|InstanceNorm)[123]d|LayerNorm|SyncBatchNorm"
_THOP_UPSAMPLE = {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 259}


def _thop(layer: _Layer) -> dict[str, Fraction]:
    _kind, name, r = layer.kind, layer.name, layer.result
    if layer.form != "module":
        return _unseen(layer)
    if re.fullmatch(r"Conv[123]d|Linear", name):
        return {}
    if re.fullmatch(r"ConvTranspose[123]d", name):
        x = layer.ins[0]
        kernel = math.prod(layer.arg("kernel")) if len(layer.arg("kernel")) == x.rank else \
            layer.arg("kernel")[0] ** x.rank
        return {CONVT: Fraction(layer.out * (x.channels // layer.arg("groups")) * kernel - r.macs)}
    if re.fullmatch(_THOP_NORMS, name):
        return {NORM: Fraction(2 * layer.inp * (2 if layer.arg("affine") else 1))}
    if name == "PReLU":
        return {ACT: Fraction(layer.inp)}
    if name == "Softmax":
        axis = layer.arg("dim") - 1 if layer.arg("dim") > 0 else layer.arg("dim")
        features = layer.ins[0].dims[axis]
        return {SOFTMAX: Fraction(layer.inp // features * (3 * features - 1))}
    if re.fullmatch(r"AvgPool[123]d", name):
        return {POOL: Fraction(layer.out)}
    if re.fullmatch(r"AdaptiveAvgPool[123]d", name):
        # thop divides in double precision and truncates: follow it exactly.
        kernel = 1.0
        for i, o in zip(layer.ins[0].spatial, r.shape.spatial):
            kernel *= i / o
        return {POOL: Fraction(int((kernel + 1) * layer.out))}
    if name == "Upsample":
        return {UPSAMPLE: Fraction(_THOP_UPSAMPLE.get(layer.arg("mode"), 0) * layer.out)}
    return _unseen(layer)


_RULES: dict[str, Callable[[_Layer], dict[str, Fraction]]] = {
    "torchinfo": _torchinfo,
    "fvcore": _fvcore,
    "ptflops": _ptflops,
    "ptflops-aten": _ptflops_aten,
    "thop": _thop,
}


def count(report: Report, tool: str) -> Count:
    """What ``tool`` would print for this network at batch 1 in eval mode.

    >>> from netarith import analyze
    >>> r = analyze("3x32x32 | conv 8 k3 | bn | relu")
    >>> r.totals.macs, count(r, "thop").total, count(r, "ptflops").total
    (194400, 223200, 230400)
    """
    rule = _RULES.get(tool)
    if rule is None:
        raise SpecError(f"unknown counting tool {tool!r}{did_you_mean(tool, _RULES)} (one of: {', '.join(_RULES)})")
    if report.totals.not_counted:
        raise SpecError(
            f"{', '.join(report.totals.not_counted)}: netarith could not count these layers, "
            f"so what {tool} prints cannot be worked out"
        )
    items: dict[str, Fraction] = {label: Fraction(0) for label in ITEMS}
    for layer in _layers(report):
        for label, amount in rule(layer).items():
            items[label] += amount
    macs = report.totals.macs
    # Items are whole numbers except ptflops' interpolation by a fractional scale, which
    # it sums in floating point and truncates at the end; the total does the same.
    total = macs + sum(items.values(), Fraction(0))
    return Count(tool, TOOLS[tool][0], math.floor(total), macs,
                 {label: math.floor(v) for label, v in items.items()})


def reconcile(report: Report) -> list[Count]:
    """Every tool's total, each as netarith's MACs plus line items."""
    return [count(report, tool) for tool in _RULES]


def _signed(value: int) -> str:
    return f"{value:+,}" if value else "0"


def describe(c: Count) -> str:
    """``thop 0.1.1 (profile() MACs): 4,133,742,592 = MACs 4,089,184,256 + normalisation ...``"""
    parts = [f"MACs {c.macs:,}"] + [
        f"{'+' if v > 0 else '-'} {label} {abs(v):,}" for label, v in c.items.items() if v
    ]
    return f"{c.tool} {c.release} ({TOOLS[c.tool][1]}): {c.total:,} = " + " ".join(parts)


def render(report: Report, counts: list[Count]) -> str:
    """The reconcile table: each tool's total, then the line items that separate them."""
    head: list[tuple[str, ...]] = [("tool", "release", "what it prints", "total", "vs netarith"),
                                   ("netarith", "", "MACs of conv, linear, matmul", f"{report.totals.macs:,}", "")]
    head += [(c.tool, c.release, TOOLS[c.tool][1], f"{c.total:,}", _signed(c.total - c.macs)) for c in counts]
    used = [label for label in ITEMS if any(c.items.get(label) for c in counts)]
    items = [("line item", *[c.tool for c in counts])]
    items += [(label, *[_signed(c.items.get(label, 0)) for c in counts]) for label in used]
    inputs = ", ".join(str(s) for s in report.inputs)
    out = [f"{report.model}: input {inputs}, batch 1, eval mode", ""]
    out += _grid(head, right={3, 4})
    out += ["", "What each tool adds to netarith's MACs (+) or leaves out (-):", ""]
    out += _grid(items, right=set(range(1, len(counts) + 1)))
    return "\n".join(out) + "\n"


def _grid(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(rows[0]), line(tuple("-" * w for w in widths)), *[line(r) for r in rows[1:]]]
