"""cuda-convnet layer definition files (``layers-*.cfg``) as a Graph: the AlexNet its authors ran.

Alex Krizhevsky's cuda-convnet2 describes a network in an INI file, one section per
layer (``type=conv``, ``inputs=``, ``filters=``, ``filterSize=`` ...), with learning
rates and normalisation constants in a companion ``layer-params-*.cfg``, read here
when it sits beside the layers file. Facts from akrizhevsky/cuda-convnet2 ``layer.py``:

* a conv layer makes ``filters * groups`` maps, ``1 + ceil((2*padding + imgSize -
  filterSize) / stride)`` wide: it rounds up (the graph gets the ``cuda-convnet``
  convention); with several inputs it sums one convolution per input, which is one
  convolution over their concatenation when ``groups`` is 1;
* pooling is ``ceil((imgSize - start - sizeX) / stride) + 1`` wide, ``start`` <= 0
  being padding at the start;
* ``neuron=relu`` on a layer applies the activation to its output (its own row here);
* ``fc`` sums one product per input: one linear layer over their concatenation;
* ``cmrnorm`` normalises across maps (``scale``, ``pow``, ``minDiv`` are PyTorch's
  alpha, beta and k), ``rnorm`` within a map over a ``size`` x ``size`` window;
* ``cost.*`` layers and the labels they read are left out (a note says so).

The image size is not in the file: cuda-convnet takes it on the command line. It is
224x224 (the paper's crops) unless ``input`` says otherwise; a note says which.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable
from pathlib import Path

from .._values import mutable
from ..conventions import get_convention
from ..errors import GraphError, ShapeError, SourceError, SpecError, did_you_mean
from ..graph import Graph
from ..ops.activation import Clip as ClipOp
from ..ops.activation import Dropout, ReLU, Sigmoid, Softmax, Softplus, Tanh
from ..ops.base import Context, Op
from ..ops.conv import Conv
from ..ops.input import Input
from ..ops.linear import Linear
from ..ops.merge import Add, Concat, Max
from ..ops.norm import LRN
from ..ops.opaque import Opaque
from ..ops.pool import AvgPool, MaxPool
from ..ops.reshape import Flatten
from ..shape import Shape
from ._common import Assembler, Place, clean_name, located, parse_input, read_text

__all__ = ["from_cfg", "load"]

DEFAULT_SIZE = 224
_NEURON_RE = re.compile(r"^(\w+)(?:\[([^\]]*)\])?$")


def load(path: str | Path, input: object = None) -> Graph:
    """Read a ``layers-*.cfg`` file (and its ``layer-params-*.cfg`` if it is beside it)."""
    path = Path(path)
    params_path = path.with_name(path.name.replace("layers-", "layer-params-", 1))
    params = None
    if params_path != path and params_path.is_file():
        params = (read_text(params_path), str(params_path))
    return from_cfg(read_text(path), source=str(path), name=path.stem, params=params, input=input)


def from_cfg(text: str, *, source: str = "<cfg>", name: str | None = None,
             params: tuple[str, str] | None = None, input: object = None) -> Graph:
    """Read a cuda-convnet layer definition from text; ``params`` is (text, source) of the
    layer-params file.

    >>> g = from_cfg('''
    ... [data]
    ... type=data
    ... dataIdx=0
    ... [conv1]
    ... type=conv
    ... inputs=data
    ... channels=3
    ... filters=64
    ... filterSize=11
    ... stride=4
    ... neuron=relu
    ... ''')
    >>> [(n.name, n.kind) for n in g], g.convention
    ([('data', 'input'), ('conv1', 'conv'), ('conv1.relu', 'relu')], 'cuda-convnet')
    """
    layers = _Ini(text, source)
    extra = _Ini(*params) if params is not None else None
    return _Net(layers, extra, parse_input(input)).build(name)


class _Ini:
    """An INI file read by configparser, with the line of every section and key for messages."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.split("\n")
        self.parser = configparser.ConfigParser(interpolation=None, strict=True,
                                                inline_comment_prefixes=None)
        try:
            self.parser.read_string(text, source=source)
        except configparser.Error as exc:
            raise SourceError(self._describe(exc)) from None
        self.places: dict[tuple[str, str], Place] = {}
        section = ""
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1].strip()
                self.places[(section, "")] = Place(source, number, line.index("[") + 1, line)
            elif "=" in stripped and not stripped.startswith(("#", ";")):
                key = stripped.split("=", 1)[0].strip().lower()
                self.places[(section, key)] = Place(source, number, line.index(stripped[0]) + 1, line)

    def _describe(self, exc: configparser.Error) -> str:
        line = getattr(exc, "lineno", None)
        errors = getattr(exc, "errors", None)
        if not isinstance(exc, configparser.MissingSectionHeaderError) and errors:
            line = errors[0][0]
        message = str(exc.message).split("\n")[0] if hasattr(exc, "message") else str(exc)
        if isinstance(exc, configparser.MissingSectionHeaderError):
            message = "the file must start with a [layer] section"
        elif isinstance(exc, configparser.ParsingError):
            message = "not a 'key=value' line or a [section]"
        elif isinstance(exc, configparser.DuplicateSectionError):
            message = f"layer [{exc.section}] is defined twice"
        elif isinstance(exc, configparser.DuplicateOptionError):
            message = f"[{exc.section}] sets '{exc.option}' twice"
        if isinstance(line, int) and 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            return located(Place(self.source, line, 1, text), message)
        return f"{self.source}: {message}"

    def sections(self) -> list[str]:
        return self.parser.sections()

    def place(self, section: str, key: str = "") -> Place | str:
        return self.places.get((section, key.lower()), self.places.get((section, ""), self.source))

    def get(self, section: str, key: str) -> str | None:
        if not self.parser.has_section(section):
            return None
        return self.parser.get(section, key, fallback=None)


@mutable(slots=False)
class _Layer:
    name: str
    ini: _Ini

    def get(self, key: str) -> str | None:
        return self.ini.get(self.name, key)

    def error(self, message: str, key: str = "") -> SourceError:
        return SourceError(located(self.ini.place(self.name, key), f"[{self.name}] {message}"))

    def ints(self, key: str, count: int, default: int | None = None, least: int = 0) -> list[int]:
        """A comma list with one value per input (one value is repeated for all)."""
        raw = self.get(key)
        if raw is None:
            if default is None:
                raise self.error(f"needs '{key}='", key)
            return [default] * count
        try:
            values = [int(v) for v in raw.split(",")]
        except ValueError:
            raise self.error(f"'{key}' must be integers separated by commas: {raw!r}", key) from None
        if len(values) == 1:
            values *= count
        if len(values) != count:
            raise self.error(f"'{key}' has {len(values)} values for {count} input(s)", key)
        for v in values:
            if v < least:
                raise self.error(f"'{key}' must be >= {least}: {v}", key)
        return values

    def integer(self, key: str, default: int | None = None, least: int = 0) -> int:
        return self.ints(key, 1, default, least)[0]

    def number(self, key: str, default: float) -> float:
        raw = self.get(key)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError:
            raise self.error(f"'{key}' must be a number: {raw!r}", key) from None


_DROPPED_PREFIX = "cost."


class _Net:
    def __init__(self, layers: _Ini, params: _Ini | None, input: Shape | None) -> None:
        self.ini = layers
        self.params = params
        self.input = input
        self.asm = Assembler("cuda-convnet")
        self.done: dict[str, str] = {}  # layer -> the node that holds its output
        self.visiting: list[str] = []
        self.dropped: list[str] = []
        self.data: list[str] = []
        self.norms_without_params: list[str] = []

    def build(self, name: str | None) -> Graph:
        sections = self.ini.sections()
        if not sections:
            raise SourceError(f"{self.ini.source}: no layers: a cuda-convnet file has one [section] a layer")
        if not any(self.ini.get(s, "type") for s in sections):
            darknet = " (it looks like a Darknet .cfg)" if {"net", "convolutional"} & set(sections) else ""
            raise SourceError(f"{self.ini.source}: not a cuda-convnet layer file{darknet}: no section has "
                              "a 'type=' (netarith reads .cfg files as cuda-convnet's layers-*.cfg)")
        used = self._used_layers(sections)
        for section in sections:
            if section in used:
                self._visit(section)
        if not self.data:
            raise SourceError(f"{self.ini.source}: no data layer ('type=data') feeds the network")
        self._write_notes()
        return self.asm.graph(name)

    def _used_layers(self, sections: list[str]) -> set[str]:
        """Every layer except the costs and what only costs read (the labels)."""
        costs = [s for s in sections if (self.ini.get(s, "type") or "").startswith(_DROPPED_PREFIX)]
        self.dropped = costs
        readers: dict[str, list[str]] = {s: [] for s in sections}
        for s in sections:
            for i in _inputs(self.ini, s):
                readers.setdefault(i, []).append(s)
        used = set(sections) - set(costs)
        for s in sections:
            kind = self.ini.get(s, "type")
            if kind == "data" and readers.get(s) and all(r in costs for r in readers[s]):
                used.discard(s)
                self.dropped.append(s)
        return used

    def _visit(self, name: str) -> str:
        if name in self.done:
            return self.done[name]
        if name in self.visiting:
            loop = " -> ".join([*self.visiting[self.visiting.index(name):], name])
            raise GraphError(located(self.ini.place(name, "inputs"), f"the layers form a cycle: {loop}"))
        if not self.ini.parser.has_section(name):
            reader = self.visiting[-1] if self.visiting else name
            raise SourceError(located(self.ini.place(reader, "inputs"), f"[{reader}] reads '{name}', "
                                      f"which is not a layer{did_you_mean(name, self.ini.sections())}"))
        if name in self.dropped:
            reader = self.visiting[-1] if self.visiting else name
            raise SourceError(located(self.ini.place(reader, "inputs"),
                                      f"[{reader}] reads '{name}', which only a cost layer should read"))
        self.visiting.append(name)
        layer = _Layer(name, self.ini)
        ins = [self._visit(i) for i in _inputs(self.ini, name)]
        self.visiting.pop()
        kind = layer.get("type")
        if kind is None:
            raise layer.error("has no 'type='")
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise layer.error(f"unknown layer type '{kind}'{did_you_mean(kind, _HANDLERS)} netarith "
                              f"reads {', '.join(sorted(_HANDLERS))} and cost.*", "type")
        try:
            node = handler(self, layer, ins)
            node = self._neuron(layer, node)
        except (SpecError, ShapeError) as exc:
            if "\n" in str(exc):
                raise
            raise type(exc)(located(self.ini.place(name), f"[{name}] {exc}")) from None
        self.done[name] = node
        return node

    def add(self, layer: _Layer, op: Op, ins: list[str], suffix: str = "") -> str:
        return self.asm.add(clean_name(layer.name + suffix, "layer"), op, ins, self.ini.place(layer.name))

    def _neuron(self, layer: _Layer, node: str) -> str:
        raw = layer.get("neuron")
        if raw is None or layer.get("type") == "neuron":
            return node
        op = _neuron_op(layer, raw, self.asm.shape(node))
        return node if op is None else self.add(layer, op, [node], "." + raw.split("[")[0])

    def norm_params(self, layer: _Layer) -> tuple[float, float, float]:
        """scale, pow and minDiv from the layer-params file (they change no count)."""
        section = layer.name
        if self.params is None or not self.params.parser.has_section(section):
            self.norms_without_params.append(section)
            return 1e-4, 0.75, 1.0
        p = _Layer(section, self.params)
        return p.number("scale", 1e-4), p.number("pow", 0.75), p.number("minDiv", 1.0)

    def _write_notes(self) -> None:
        if self.input is None:
            self.asm.note(
                f"the image size is not in the file (cuda-convnet takes it on the command line): "
                f"{DEFAULT_SIZE}x{DEFAULT_SIZE} assumed, the paper's crops; give --input to change it"
            )
        if self.dropped:
            self.asm.note(f"cost layers and the labels only they read are left out: {', '.join(self.dropped)}")
        if self.norms_without_params:
            self.asm.note(
                "no layer-params file gives scale/pow/minDiv for "
                f"{', '.join(self.norms_without_params)}: netarith's defaults are used (no count depends on them)"
            )


def _inputs(ini: _Ini, section: str) -> list[str]:
    raw = ini.get(section, "inputs")
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else []


# -- layers --------------------------------------------------------------------------------

_Handler = Callable[[_Net, _Layer, list[str]], str]


def _data(net: _Net, layer: _Layer, ins: list[str]) -> str:
    if ins:
        raise layer.error("a data layer takes no inputs", "inputs")
    channels = _data_channels(net, layer.name)
    size = net.input or Shape((channels, DEFAULT_SIZE, DEFAULT_SIZE))
    net.data.append(layer.name)
    return net.add(layer, Input(shape=size), [])


def _data_channels(net: _Net, name: str) -> int:
    """The channels a data layer gives: what its first image reader declares (else 3)."""
    for section in net.ini.sections():
        readers = _inputs(net.ini, section)
        if name in readers and net.ini.get(section, "channels"):
            reader = _Layer(section, net.ini)
            return reader.ints("channels", len(readers), least=1)[readers.index(name)]
    return 3


def _check_channels(net: _Net, layer: _Layer, ins: list[str]) -> None:
    declared = layer.ints("channels", len(ins), least=1)
    for node, want in zip(ins, declared):
        got = net.asm.shape(node).channels
        if got != want:
            raise layer.error(f"channels={want}, but its input {node} has {got} channels", "channels")


def _merged(net: _Net, layer: _Layer, ins: list[str]) -> str:
    """Several inputs as one tensor (their concatenation), for layers that sum one product each."""
    if len(ins) == 1:
        return ins[0]
    return net.add(layer, Concat(), ins, ".inputs")


def _conv(net: _Net, layer: _Layer, ins: list[str]) -> str:
    n = len(ins)
    if n == 0:
        raise layer.error("needs 'inputs='", "inputs")
    _check_channels(net, layer, ins)
    geometry = {key: layer.ints(key, n, default, least) for key, default, least in
                (("filters", None, 1), ("filterSize", None, 1), ("padding", 0, 0), ("stride", 1, 1),
                 ("groups", 1, 1))}
    for key, values in geometry.items():
        if len(set(values)) > 1:
            raise layer.error(f"netarith reads layers whose inputs share one '{key}': {values}", key)
    filters, size, padding, stride, groups = (geometry[k][0] for k in
                                              ("filters", "filterSize", "padding", "stride", "groups"))
    if groups > 1 and n > 1:
        raise layer.error("groups with several inputs is not one convolution over their concatenation",
                          "groups")
    if layer.get("modulesX"):
        raise layer.error("'modulesX' (a fixed output size) is not read", "modulesX")
    op = Conv(out=filters * groups, kernel=(size,), stride=(stride,), padding=((padding, padding),),
              groups=groups)
    x = _merged(net, layer, ins)
    kind = layer.get("type")
    shared = layer.integer("sharedBiases", 1) if kind == "conv" else 0
    if kind == "conv" and shared:
        return net.add(layer, op, [x])
    return _unshared(net, layer, op, x, local=kind == "local")


def _unshared(net: _Net, layer: _Layer, conv: Conv, x: str, *, local: bool) -> str:
    """Locally connected layers, and convs with a bias per output position: no netarith kind,
    so the shape and parameters are given and the MACs are marked not counted."""
    out = conv.infer([net.asm.shape(x)], Context(get_convention("cuda-convnet"))).shape
    positions = out.numel // out.channels
    fan_in = (net.asm.shape(x).channels // conv.groups) * conv.kernel[0] ** 2
    per_map = conv.out * fan_in
    params = (per_map * positions if local else per_map) + conv.out * positions
    what = "locally-connected" if local else "conv-unshared-biases"
    return net.add(layer, Opaque(op=what, shape=out, params=params, given=net.asm.shape(x)), [x])


def _pool(net: _Net, layer: _Layer, ins: list[str]) -> str:
    if len(ins) != 1:
        raise layer.error(f"pooling takes one input, got {len(ins)}", "inputs")
    _check_channels(net, layer, ins)
    size = layer.integer("sizeX", least=1)
    stride = layer.integer("stride", least=1)
    start = layer.ints("start", 1, 0, least=-(10**9))[0]
    if start > 0:
        raise layer.error(f"start={start} skips input pixels; netarith reads start <= 0 (padding)", "start")
    if layer.get("outputsX"):
        raise layer.error("'outputsX' (a fixed output size) is not read", "outputsX")
    method = layer.get("pool")
    padding = ((-start, 0),)
    if method == "avg":
        return net.add(layer, AvgPool(kernel=(size,), stride=(stride,), padding=padding), ins)
    if method in ("max", "maxabs"):
        if method == "maxabs":
            net.asm.note(f"{layer.name}: maxabs pooling is counted as max pooling (the same shape)")
        return net.add(layer, MaxPool(kernel=(size,), stride=(stride,), padding=padding), ins)
    raise layer.error(f"'pool' must be max, maxabs or avg, got {method!r}", "pool")


def _norm(net: _Net, layer: _Layer, ins: list[str]) -> str:
    if len(ins) != 1:
        raise layer.error(f"takes one input, got {len(ins)}", "inputs")
    _check_channels(net, layer, ins)
    size = layer.integer("size", least=1)
    if layer.get("type") == "cnorm":
        x = net.asm.shape(ins[0])
        return net.add(layer, Opaque(op="contrast-normalisation", shape=x, params=0, given=x), ins)
    scale, power, min_div = net.norm_params(layer)
    region = "across" if layer.get("type") == "cmrnorm" else "within"
    return net.add(layer, LRN(size=size, alpha=scale, beta=power, k=min_div, region=region), ins)


def _fc(net: _Net, layer: _Layer, ins: list[str]) -> str:
    if not ins:
        raise layer.error("needs 'inputs='", "inputs")
    outputs = layer.integer("outputs", least=1)
    shapes = [net.asm.shape(i) for i in ins]
    if len(ins) > 1 and len({s.spatial for s in shapes}) > 1:
        ins = [net.add(layer, Flatten(), [i], f".flatten{k}") if s.rank else i
               for k, (i, s) in enumerate(zip(ins, shapes))]
    x = _merged(net, layer, ins)
    if net.asm.shape(x).rank:
        x = net.add(layer, Flatten(), [x], ".flatten")
    return net.add(layer, Linear(out=outputs), [x])


def _neuron_layer(net: _Net, layer: _Layer, ins: list[str]) -> str:
    if len(ins) != 1:
        raise layer.error(f"takes one input, got {len(ins)}", "inputs")
    raw = layer.get("neuron")
    if raw is None:
        raise layer.error("needs 'neuron='", "neuron")
    op = _neuron_op(layer, raw, net.asm.shape(ins[0]))
    return net.add(layer, op if op is not None else _identity(), ins)


def _identity() -> Op:
    from ..ops.reshape import Identity

    return Identity()


def _neuron_op(layer: _Layer, raw: str, shape: Shape) -> Op | None:
    """cuda-convnet's neurons (layer.py NeuronParser): relu, logistic, tanh[a,b], softrelu,
    brelu[a], ident; the rest keep the shape and are not counted."""
    m = _NEURON_RE.match(raw.strip())
    if m is None:
        raise layer.error(f"cannot read neuron={raw!r}", "neuron")
    kind, args = m.group(1), m.group(2)
    if kind == "ident":
        return None
    simple: dict[str, Callable[[], Op]] = {"relu": ReLU, "logistic": Sigmoid, "tanh": Tanh,
                                           "softrelu": Softplus}
    if kind in simple:
        return simple[kind]()
    if kind == "brelu" and args:
        try:
            return ClipOp(min=0.0, max=float(args))
        except ValueError:
            raise layer.error(f"brelu needs a number: {raw!r}", "neuron") from None
    return Opaque(op=f"neuron-{kind}", shape=shape, params=0, given=shape)


def _softmax(net: _Net, layer: _Layer, ins: list[str]) -> str:
    return net.add(layer, Softmax(), ins)


def _dropout(net: _Net, layer: _Layer, ins: list[str]) -> str:
    keep = layer.number("keep", 0.5)
    if not 0 <= keep <= 1:
        raise layer.error(f"'keep' must be between 0 and 1: {keep}", "keep")
    return net.add(layer, Dropout(p=1 - keep), ins)


def _elementwise(op: Callable[[], Op]) -> _Handler:
    def handler(net: _Net, layer: _Layer, ins: list[str]) -> str:
        if len(ins) < 2:
            raise layer.error(f"needs at least two inputs, got {len(ins)}", "inputs")
        return net.add(layer, op(), ins)

    return handler


def _concat(net: _Net, layer: _Layer, ins: list[str]) -> str:
    return net.add(layer, Concat(), ins)


_HANDLERS: dict[str, _Handler] = {
    "data": _data,
    "conv": _conv,
    "local": _conv,
    "pool": _pool,
    "cmrnorm": _norm,
    "rnorm": _norm,
    "cnorm": _norm,
    "fc": _fc,
    "neuron": _neuron_layer,
    "softmax": _softmax,
    "dropout": _dropout,
    "dropout2": _dropout,
    "eltsum": _elementwise(Add),
    "eltmax": _elementwise(Max),
    "concat": _concat,
}
