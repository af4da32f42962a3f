"""Caffe network definitions (``deploy.prototxt``, ``train_val.prototxt``) as a Graph.

``netarith analyze deploy.prototxt`` reads the file with netarith's own protobuf
text-format reader (no Caffe, no generated code) and gives the graph Caffe's
convention: convolutions round down, pooling rounds up and drops a last window that
starts in the padding only when there is padding (``conventions.py``).

Defaults and meanings are Caffe's (BVLC/caffe ``src/caffe/proto/caffe.proto`` and
``src/caffe/layers/*.cpp``):

* Convolution: ``kernel_size``/``pad``/``stride``/``dilation`` are repeated, one value
  for every axis or one per axis (``kernel_h``/``kernel_w`` etc. for 2d); ``group``;
  ``bias_term`` (true). Deconvolution is the transposed convolution (no output padding).
* Pooling: MAX or AVE (STOCHASTIC has max pooling's shape); ``stride`` defaults to 1;
  ``global_pooling``; ``round_mode`` CEIL (the default) or FLOOR.
* InnerProduct flattens everything after ``axis`` (1) first; BatchNorm holds three blobs,
  mean, variance and a scale factor (2C + 1 values, no learned parameters), and its
  learned scale and shift live in the Scale layer after it.
* In-place layers (``top`` equal to ``bottom``) get their own row in the table.

A ``train_val.prototxt`` is read as Caffe's TEST-phase net: TRAIN-only layers are
skipped; the data layer gives the input size from ``crop_size``; loss and accuracy
layers are left out, and the layers that feed only auxiliary losses (GoogLeNet's two
side classifiers) are marked train-only. Each of these decisions is a note in the report.
The old V1 syntax (``layers { type: CONVOLUTION }``) is read too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .._values import mutable
from ..errors import ShapeError, SourceError, SpecError, did_you_mean
from ..graph import Graph
from ..ops.activation import ELU, Dropout, LeakyReLU, PReLU, ReLU, Sigmoid, Softmax, Tanh
from ..ops.base import Op
from ..ops.conv import Conv, ConvTranspose
from ..ops.input import Input
from ..ops.linear import Linear
from ..ops.merge import Add, Concat, Max, Mul
from ..ops.norm import LRN, BatchNorm, Scale
from ..ops.opaque import Opaque
from ..ops.pool import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from ..ops.reshape import Flatten, Reshape
from ..shape import Shape
from . import prototext
from ._common import Assembler, Place, clean_name, located, parse_input, read_text
from .prototext import Message

__all__ = ["from_prototxt", "load"]

#: V1 ``layers { type: ENUM }`` names and the V2 type each stands for (caffe.proto V1LayerParameter).
_V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DATA": "Data", "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData", "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise",
    "EXP": "Exp", "FLATTEN": "Flatten", "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss", "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss",
    "INNER_PRODUCT": "InnerProduct", "LRN": "LRN", "MEMORY_DATA": "MemoryData",
    "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss", "POOLING": "Pooling",
    "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence",
    "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split",
    "TANH": "TanH", "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}

_DATA_TYPES = ("Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData",
               "AnnotatedData")
_DROPPED = ("Accuracy", "Silence", "HDF5Output")
#: elementwise layers without parameters that netarith has no kind for: shape kept, MACs not counted
_OPAQUE_SAME_SHAPE = ("AbsVal", "BNLL", "Exp", "Log", "Power", "Threshold", "MVN")
_DEFAULT_SIZE = 224


def load(path: str | Path, input: object = None) -> Graph:
    """Read a ``.prototxt`` file. ``input`` (e.g. ``"3x227x227"``) replaces the file's input size."""
    path = Path(path)
    return from_prototxt(read_text(path), source=str(path), name=path.stem, input=input)


def from_prototxt(text: str, *, source: str = "<prototxt>", name: str | None = None,
                  input: object = None) -> Graph:
    """Read a Caffe network definition from text.

    >>> g = from_prototxt('''
    ...   name: "tiny"
    ...   input: "data"  input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
    ...   layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
    ...           convolution_param { num_output: 8 kernel_size: 3 } }
    ...   layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
    ... ''')
    >>> [(n.name, n.kind) for n in g], g.convention
    ([('data', 'input'), ('conv1', 'conv'), ('relu1', 'relu')], 'caffe')
    """
    root = prototext.parse(text, source=source)
    net = _Net(root, source, parse_input(input))
    return net.build(root.text("name") or name)


@mutable(slots=False)
class _Layer:
    """One layer being read: its message, name, type, input nodes and top blob names."""

    msg: Message
    name: str
    type: str
    ins: list[str]
    tops: list[str]
    place: Place

    def param(self, field: str) -> Message:
        return self.msg.message(field) or Message((), self.place)

    def error(self, message: str, where: object = None) -> SourceError:
        place = getattr(where, "place", self.place)
        return SourceError(located(place, f"layer '{self.name}' ({self.type}): {message}"))


@mutable(slots=False)
class _Loss:
    name: str
    weight: float
    feeds: list[str]  # the nodes it reads


class _Net:
    def __init__(self, root: Message, source: str, input: Shape | None) -> None:
        self.root = root
        self.source = source
        self.input = input
        self.asm = Assembler("caffe")
        self.blobs: dict[str, str] = {}  # blob name -> node that holds it now
        self.labels: set[str] = set()  # blobs netarith does not follow (labels)
        self.losses: list[_Loss] = []
        self.dropped: list[str] = []
        self.skipped: list[str] = []
        self.inputs = 0

    # -- the whole net --------------------------------------------------------------------
    def build(self, name: str | None) -> Graph:
        layers, v1 = self.root.messages("layer"), self.root.messages("layers")
        if layers and v1:
            raise self.root.error(self.root.all("layers")[0],
                                  "this file mixes 'layer { }' and the old 'layers { }'; use one")
        self._net_inputs()
        for msg in layers or v1:
            self._layer(msg, v1=bool(v1))
        if not self.inputs:
            raise SourceError(f"{self.source}: the network has no input: add an Input layer, "
                              "or 'input' with 'input_shape' at the top")
        self._mark_auxiliary()
        self._write_notes()
        return self.asm.graph(name)

    def _net_inputs(self) -> None:
        """The old net-level inputs: ``input: "data"`` with ``input_shape`` or ``input_dim``."""
        root = self.root
        blobs, fields = root.texts("input"), root.all("input")
        if not blobs:
            return
        shapes = root.messages("input_shape")
        dims = root.integers("input_dim")
        if dims and len(dims) != 4 * len(blobs):
            raise root.error(root.all("input_dim")[0], f"{len(blobs)} input(s) need "
                             f"{4 * len(blobs)} 'input_dim' values (N, C, H, W each), got {len(dims)}")
        for i, (blob, f) in enumerate(zip(blobs, fields)):
            if dims:
                shape = dims[4 * i : 4 * i + 4]
            elif i < len(shapes):
                shape = shapes[i].integers("dim")
            else:
                raise root.error(f, f"input '{blob}' has no shape: add 'input_shape {{ dim: ... }}'")
            self._add_input(blob, shape, f.place, blob)

    def _add_input(self, name: str, dims: list[int], place: Place, blob: str) -> None:
        self.inputs += 1
        if self.input is not None and self.inputs > 1:
            raise SourceError(located(place, f"the network has several inputs; --input cannot say "
                                      f"which one to resize ('{blob}' is the second)"))
        if len(dims) < 2 or any(d < 1 for d in dims):
            raise SourceError(located(place, f"input '{blob}': a shape needs a batch size and at "
                                      f"least the channels, all positive: {dims}"))
        shape = self.input if self.input is not None else Shape(tuple(dims[1:]))
        node = self.asm.add(clean_name(name, "data"), Input(shape=shape), [], place)
        self.blobs[blob] = node

    # -- one layer ------------------------------------------------------------------------
    def _layer(self, msg: Message, *, v1: bool) -> None:
        name = msg.text("name") or f"layer_{len(self.asm.nodes) + len(self.dropped) + 1}"
        kind = self._type(msg, v1)
        if not self._in_test_phase(msg):
            self.skipped.append(name)
            return
        tops = msg.texts("top")
        bottoms = msg.texts("bottom")
        if kind.endswith("Loss") or kind in _DROPPED:
            self._drop(msg, name, kind, bottoms)
            return
        handler = _HANDLERS.get(kind)
        if handler is None:
            where = msg.scalars("type")[-1]
            known = ", ".join(sorted({*_HANDLERS, *_DROPPED}))
            raise msg.error(where, f"layer '{name}': unknown layer type '{kind}'"
                            f"{did_you_mean(kind, _HANDLERS)} netarith reads {known} and the *Loss layers")
        layer = _Layer(msg, name, kind, [self._blob(msg, b) for b in bottoms], tops, msg.place)
        if not tops and kind != "Split":
            raise layer.error("it has no 'top': name its output blob")
        try:
            produced = handler(self, layer)
        except (SpecError, ShapeError) as exc:
            if "\n" in str(exc):  # already located
                raise
            raise type(exc)(located(layer.place, f"layer '{name}' ({kind}): {exc}")) from None
        for top, node in zip(tops, produced):
            self.blobs[top] = node

    def _type(self, msg: Message, v1: bool) -> str:
        values = msg.scalars("type")
        if not values:
            raise msg.error(None, f"layer '{msg.text('name')}' has no 'type'")
        value = values[-1]
        if not v1:
            if value.kind != "string":
                raise SourceError(located(value.place, f"'type' must be a quoted string, got {value.text}"
                                          " (the old 'layers { type: ENUM }' syntax uses 'layers')"))
            return value.text
        if value.text in _V1_TYPES:
            return _V1_TYPES[value.text]
        raise SourceError(located(value.place, f"unknown V1 layer type {value.text}"
                                  f"{did_you_mean(value.text, _V1_TYPES)}"))

    def _blob(self, msg: Message, blob: str) -> str:
        if blob in self.labels:
            raise msg.error(msg.last("bottom"), f"layer '{msg.text('name')}' reads '{blob}', the "
                            "labels of a data layer: netarith follows only the data")
        node = self.blobs.get(blob)
        if node is None:
            where = next((f for f in msg.all("bottom") if getattr(f.value, "text", None) == blob), None)
            raise msg.error(where, f"layer '{msg.text('name')}': bottom '{blob}' is not the top of "
                            f"any earlier layer{did_you_mean(blob, self.blobs)}")
        return node

    def _in_test_phase(self, msg: Message) -> bool:
        """Caffe's NetStateRule for phase TEST (levels and stages are not read)."""
        def matches(rule: Message) -> bool:
            return rule.enum("phase", ("TRAIN", "TEST"), "TEST") == "TEST" if rule.has("phase") else True

        includes = msg.messages("include")
        if includes and not any(matches(r) for r in includes):
            return False
        return not any(matches(r) for r in msg.messages("exclude"))

    def _drop(self, msg: Message, name: str, kind: str, bottoms: list[str]) -> None:
        self.dropped.append(name)
        if kind.endswith("Loss"):
            feeds = [self.blobs[b] for b in bottoms if b in self.blobs and b not in self.labels]
            weight = msg.number("loss_weight", 1.0)
            assert weight is not None
            self.losses.append(_Loss(name, weight, feeds))

    # -- what the train_val files leave out ---------------------------------------------------
    def _mark_auxiliary(self) -> None:
        """Layers that feed only the lighter losses are auxiliary heads: train-only."""
        if len(self.losses) < 2:
            return
        main = max(reversed(self.losses), key=lambda loss: loss.weight)
        needed = self._ancestors(main.feeds)
        side = self._ancestors([n for loss in self.losses if loss is not main for n in loss.feeds])
        aux = side - needed
        if not aux:
            return
        self.asm.nodes = [
            type(n)(n.name, n.op, n.inputs, True) if n.name in aux else n for n in self.asm.nodes
        ]
        others = [loss for loss in self.losses if loss is not main]
        listed = ", ".join(f"{loss.name} (weight {loss.weight:g})" for loss in others)
        self.asm.note(
            f"{len(aux)} layers feed only the auxiliary losses {listed}, not the main loss "
            f"{main.name} (weight {main.weight:g}): they are marked train-only (their parameters "
            "count; their MACs only with mode 'train')"
        )

    def _ancestors(self, names: list[str]) -> set[str]:
        inputs = {n.name: n.inputs for n in self.asm.nodes}
        seen: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(inputs[name])
        return seen

    def _write_notes(self) -> None:
        if self.skipped:
            self.asm.note(f"read as Caffe's TEST phase: TRAIN-only layers skipped: {', '.join(self.skipped)}")
        if self.dropped:
            self.asm.note(f"loss, accuracy and silence layers left out (they compute no activations "
                          f"the network passes on): {', '.join(self.dropped)}")


# -- layer handlers: each returns the node of every top ----------------------------------------

_Handler = Callable[[_Net, _Layer], list[str]]


def _one(net: _Net, layer: _Layer, op: Op, n_in: int = 1) -> list[str]:
    if len(layer.ins) != n_in:
        raise layer.error(f"needs {n_in} bottom blob(s), got {len(layer.ins)}")
    if len(layer.tops) != 1:
        raise layer.error(f"gives one top blob, got {len(layer.tops)}")
    return [net.asm.add(clean_name(layer.name, "layer"), op, layer.ins, layer.place)]


def _input_layer(net: _Net, layer: _Layer) -> list[str]:
    shapes = layer.param("input_param").messages("shape")
    if len(shapes) not in (1, len(layer.tops)):
        raise layer.error(f"{len(layer.tops)} top(s) need as many 'shape' entries, got {len(shapes)}")
    out = []
    for i, top in enumerate(layer.tops):
        shape = shapes[min(i, len(shapes) - 1)]
        name = layer.name if len(layer.tops) == 1 else top
        net._add_input(name, shape.integers("dim"), shape.place, top)
        out.append(net.blobs[top])
    return out


def _data_layer(net: _Net, layer: _Layer) -> list[str]:
    """A data layer: its size is the crop (or the resize, or the declared shape)."""
    transform = layer.param("transform_param")
    crop = transform.integer("crop_size", 0) or 0
    channels, size, how = 3, (crop, crop), f"crop_size {crop}"
    memory = layer.param("memory_data_param")
    image = layer.param("image_data_param")
    dummy = layer.param("dummy_data_param").messages("shape")
    if dummy:
        dims = dummy[0].integers("dim")
        net._add_input(layer.name, dims, layer.place, layer.tops[0])
        return _with_labels(net, layer)
    if layer.type == "MemoryData" and memory.has("height"):
        channels = memory.integer("channels", 3) or 3
        size, how = (memory.integer("height", 0) or 0, memory.integer("width", 0) or 0), "memory_data_param"
    elif not crop and image.has("new_height"):
        size = (image.integer("new_height", 0) or 0, image.integer("new_width", 0) or 0)
        how = "new_height/new_width"
    if not all(size):
        size, how = (_DEFAULT_SIZE, _DEFAULT_SIZE), "none in the file (no crop_size)"
    if net.input is None:
        source = "memory_data_param" if how == "memory_data_param" else "3, for colour images"
        net.asm.note(f"the {layer.type} layer '{layer.name}' reads its images from a database: "
                     f"input {channels}x{size[0]}x{size[1]} assumed (size: {how}; channels: {source}); "
                     "give --input to change it")
    net._add_input(layer.name, [1, channels, *size], layer.place, layer.tops[0])
    return _with_labels(net, layer)


def _with_labels(net: _Net, layer: _Layer) -> list[str]:
    net.labels.update(layer.tops[1:])
    return [net.blobs[layer.tops[0]]]


def _sizes(layer: _Layer, p: Message, name: str, h: str, w: str, default: int | None,
           rank: int, least: int) -> tuple[int, ...]:
    """A per-axis size: ``name`` repeated (one value or one per axis), or ``h``/``w`` in 2d."""
    if p.has(h) or p.has(w):
        if rank != 2:
            raise layer.error(f"'{h}'/'{w}' are for 2d inputs; this one has {rank} spatial axes", p.last(h))
        if default is None and not (p.has(h) and p.has(w)):
            raise layer.error(f"give both '{h}' and '{w}'", p.last(h) or p.last(w))
        if p.has(name):
            raise layer.error(f"give either '{name}' or '{h}'/'{w}', not both", p.last(name))
        pairs = [(p.integer(h, default), _value(p, h)), (p.integer(w, default), _value(p, w))]
    else:
        pairs = list(zip(p.integers(name), p.scalars(name)))
    if not pairs:
        if default is None:
            raise layer.error(f"'{name}' is missing")
        return (default,) * rank
    values = []
    for v, f in pairs:
        if v is None or v < least:
            raise layer.error(f"'{name}' must be >= {least}: {v}", f)
        values.append(v)
    if len(values) == 1:
        return (values[0],) * rank
    if len(values) != rank:
        raise layer.error(f"{len(values)} values of '{name}' for an input with {rank} spatial axes",
                          pairs[0][1])
    return tuple(values)


def _value(p: Message, name: str) -> object:
    """The last value written for ``name`` (for a caret under it), or None."""
    values = p.scalars(name)
    return values[-1] if values else None


def _rank(net: _Net, layer: _Layer) -> int:
    if len(layer.ins) != 1:
        raise layer.error(f"needs one bottom blob, got {len(layer.ins)}")
    return net.asm.shape(layer.ins[0]).rank


def _conv(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("convolution_param")
    rank = _rank(net, layer)
    if (p.integer("axis", 1) or 1) != 1:
        raise layer.error("only 'axis: 1' (channels first) is read", p.last("axis"))
    out = p.integer("num_output")
    if out is None or out < 1:
        raise layer.error(f"'num_output' must be a positive integer: {out}", p.last("num_output"))
    kernel = _sizes(layer, p, "kernel_size", "kernel_h", "kernel_w", None, rank, 1)
    pad = _sizes(layer, p, "pad", "pad_h", "pad_w", 0, rank, 0)
    stride = _sizes(layer, p, "stride", "stride_h", "stride_w", 1, rank, 1)
    dilation = _sizes(layer, p, "dilation", "dilation_h", "dilation_w", 1, rank, 1)
    group = p.integer("group", 1) or 1
    bias = p.flag("bias_term", True)
    padding = tuple((v, v) for v in pad)
    if layer.type == "Deconvolution":
        op: Op = ConvTranspose(out=out, kernel=kernel, stride=stride, padding=padding,
                               dilation=dilation, groups=group, bias=bias)
    else:
        op = Conv(out=out, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                  groups=group, bias=bias)
    return _one(net, layer, op)


def _pool(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("pooling_param")
    rank = _rank(net, layer)
    method = p.enum("pool", ("MAX", "AVE", "STOCHASTIC"), "MAX")
    if method == "STOCHASTIC":
        net.asm.note(f"{layer.name}: STOCHASTIC pooling is counted as max pooling (the same shape, "
                     "no parameters)")
    if p.flag("global_pooling", False):
        return _one(net, layer, GlobalAvgPool() if method == "AVE" else GlobalMaxPool())
    kernel = _sizes(layer, p, "kernel_size", "kernel_h", "kernel_w", None, rank, 1)
    pad = _sizes(layer, p, "pad", "pad_h", "pad_w", 0, rank, 0)
    stride = _sizes(layer, p, "stride", "stride_h", "stride_w", 1, rank, 1)
    rounding = None
    if p.has("round_mode"):
        rounding = p.enum("round_mode", ("CEIL", "FLOOR"), "CEIL").lower()
    padding = tuple((v, v) for v in pad)
    if method == "AVE":
        op: Op = AvgPool(kernel=kernel, stride=stride, padding=padding, rounding=rounding)
    else:
        op = MaxPool(kernel=kernel, stride=stride, padding=padding, rounding=rounding)
    return _one(net, layer, op)


def _inner_product(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("inner_product_param")
    out = p.integer("num_output")
    if out is None or out < 1:
        raise layer.error(f"'num_output' must be a positive integer: {out}", p.last("num_output"))
    x = net.asm.shape(layer.ins[0]) if len(layer.ins) == 1 else None
    axis = p.integer("axis", 1) or 1
    ins = layer.ins
    if x is not None and len(x.dims) > axis:  # everything from 'axis' on is one vector
        flat = net.asm.add(clean_name(layer.name, "layer") + ".flatten", Flatten(start=axis), ins,
                           layer.place)
        ins = [flat]
    linear = Linear(out=out, bias=p.flag("bias_term", True))
    return _one(net, _Layer(layer.msg, layer.name, layer.type, ins, layer.tops, layer.place), linear)


def _lrn(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("lrn_param")
    region = p.enum("norm_region", ("ACROSS_CHANNELS", "WITHIN_CHANNEL"), "ACROSS_CHANNELS")
    op = LRN(size=p.integer("local_size", 5) or 5, alpha=p.number("alpha", 1.0) or 0.0,
             beta=p.number("beta", 0.75) or 0.0, k=p.number("k", 1.0) or 0.0,
             region="within" if region == "WITHIN_CHANNEL" else "across")
    return _one(net, layer, op)


def _relu(net: _Net, layer: _Layer) -> list[str]:
    slope = layer.param("relu_param").number("negative_slope", 0.0)
    return _one(net, layer, LeakyReLU(slope=slope) if slope else ReLU())


def _prelu(net: _Net, layer: _Layer) -> list[str]:
    shared = layer.param("prelu_param").flag("channel_shared", False)
    return _one(net, layer, PReLU(per_channel=not shared))


def _elu(net: _Net, layer: _Layer) -> list[str]:
    return _one(net, layer, ELU(alpha=layer.param("elu_param").number("alpha", 1.0) or 0.0))


def _dropout(net: _Net, layer: _Layer) -> list[str]:
    return _one(net, layer, Dropout(p=layer.param("dropout_param").number("dropout_ratio", 0.5) or 0.0))


def _softmax(net: _Net, layer: _Layer) -> list[str]:
    return _one(net, layer, Softmax(dim=layer.param("softmax_param").integer("axis", 1) or 1))


def _concat(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("concat_param")
    axis = p.integer("axis", p.integer("concat_dim", 1))
    assert axis is not None
    return _one(net, layer, Concat(dim=axis), len(layer.ins))


def _eltwise(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("eltwise_param")
    operation = p.enum("operation", ("PROD", "SUM", "MAX"), "SUM")
    if len(layer.ins) < 2:
        raise layer.error(f"needs at least two bottom blobs, got {len(layer.ins)}")
    coeffs = p.numbers("coeff")
    if operation == "SUM" and any(c != 1 for c in coeffs):
        net.asm.note(f"{layer.name}: Eltwise SUM with coefficients {coeffs} is counted as a sum")
    op: Op = {"SUM": Add, "PROD": Mul, "MAX": Max}[operation]()
    return _one(net, layer, op, len(layer.ins))


def _batchnorm(net: _Net, layer: _Layer) -> list[str]:
    eps = layer.param("batch_norm_param").number("eps", 1e-5) or 0.0
    return _one(net, layer, BatchNorm(affine=False, stats=True, eps=eps))


def _scale(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("scale_param")
    if len(layer.ins) == 2:  # the scale is the second bottom, not a parameter
        return _one(net, layer, Mul(), 2)
    if (p.integer("axis", 1), p.integer("num_axes", 1)) != (1, 1):
        raise layer.error("only a per-channel scale (axis 1, num_axes 1) is read", p.last("axis"))
    return _one(net, layer, Scale(bias=p.flag("bias_term", False)))


def _split(net: _Net, layer: _Layer) -> list[str]:
    """Split copies its bottom to every top: no row of its own."""
    if len(layer.ins) != 1:
        raise layer.error(f"needs one bottom blob, got {len(layer.ins)}")
    return [layer.ins[0]] * len(layer.tops)


def _flatten(net: _Net, layer: _Layer) -> list[str]:
    p = layer.param("flatten_param")
    start, end = p.integer("axis", 1), p.integer("end_axis", -1)
    assert start is not None and end is not None
    return _one(net, layer, Flatten(start=start, end=end))


def _reshape(net: _Net, layer: _Layer) -> list[str]:
    """Caffe's Reshape: 0 copies the bottom's size, -1 takes what is left (reshape_layer.cpp)."""
    p = layer.param("reshape_param")
    if (p.integer("axis", 0), p.integer("num_axes", -1)) != (0, -1):
        raise layer.error("only a whole-shape reshape (axis 0, num_axes -1) is read", p.last("axis"))
    shape = p.message("shape")
    dims = shape.integers("dim") if shape is not None else []
    if not dims or dims[0] not in (0, -1):
        raise layer.error(f"the first dim {dims[:1]} must keep the batch (0)", shape)
    x = net.asm.shape(layer.ins[0])
    per_sample = []
    for i, d in enumerate(dims[1:]):
        if d == 0:
            if i >= len(x.dims):
                raise layer.error(f"dim {i + 1} copies an axis the bottom {x} does not have", shape)
            d = x.dims[i]
        per_sample.append(d)
    return _one(net, layer, Reshape(shape=tuple(per_sample)))


def _simple(op: Callable[[], Op]) -> _Handler:
    return lambda net, layer: _one(net, layer, op())


def _opaque_same_shape(net: _Net, layer: _Layer) -> list[str]:
    x = net.asm.shape(layer.ins[0]) if layer.ins else None
    if x is None:
        raise layer.error("needs a bottom blob")
    return _one(net, layer, Opaque(op=layer.type, shape=x, params=0, given=x))


_HANDLERS: dict[str, _Handler] = {
    "Input": _input_layer,
    **{t: _data_layer for t in _DATA_TYPES},
    "Convolution": _conv,
    "Deconvolution": _conv,
    "Pooling": _pool,
    "InnerProduct": _inner_product,
    "LRN": _lrn,
    "ReLU": _relu,
    "PReLU": _prelu,
    "ELU": _elu,
    "Sigmoid": _simple(Sigmoid),
    "TanH": _simple(Tanh),
    "Dropout": _dropout,
    "Softmax": _softmax,
    "Concat": _concat,
    "Eltwise": _eltwise,
    "BatchNorm": _batchnorm,
    "Scale": _scale,
    "Split": _split,
    "Flatten": _flatten,
    "Reshape": _reshape,
    **{t: _opaque_same_shape for t in _OPAQUE_SAME_SHAPE},
}
