"""ONNX models as a Graph, read without their weights.

``netarith analyze model.onnx`` reads the graph and the initializers' shapes: the
file is walked in protobuf wire format and the payloads of large tensors are
skipped unread (``_onnxwire.py``), external data files are never opened, and a
declared 10^12-element initializer costs nothing. Shapes are per sample: ONNX's
axis 0 is the batch and is dropped (a note says when it is symbolic, or fixed at a
size other than 1). The graph gets the ``onnx`` convention (floor; ceil_mode pools
clip as onnxruntime does; SAME_UPPER is TensorFlow's 'same').

Each ONNX op maps to a netarith kind, with its weights counted from the initializers'
dims, as PyTorch counts them: Conv and ConvTranspose (weight, bias), Gemm and MatMul
with a constant matrix (``linear``; a MatMul followed by the Add of its bias is one
layer), BatchNormalization (scale and bias are parameters; mean and variance are
buffers, plus PyTorch's one-element ``num_batches_tracked``, which ONNX files do not
store), pooling with auto_pad and asymmetric pads, Reshape to constant shapes, Pad,
Resize/Upsample, the activations, Concat, Add, Mul... Each node counts the
initializers it reads, so an initializer two nodes share (the exporter deduplicates
equal tensors, such as the ones of two freshly built BatchNorms) is counted for each,
as PyTorch counts the two tensors it came from. An initializer used directly by an
elementwise node (a position embedding) becomes a ``param`` layer. An op with no rule
becomes an ``opaque`` layer: its shape comes from ONNX's shape inference, its MACs
are marked not counted, never zero. Shape computations on constants (Shape, Gather,
Concat of sizes...) make no layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from .._values import frozen
from ..errors import GraphError, MissingExtraError, NetarithError, ShapeError, SourceError, SpecError
from ..graph import Graph
from ..ops import activation as act
from ..ops.base import Op
from ..ops.conv import Conv, ConvTranspose
from ..ops.input import Input, Tensor
from ..ops.linear import Linear, MatMul
from ..ops.merge import Add, Concat, Div, Max, Mul, Scalar, Sub, broadcast
from ..ops.norm import LRN, BatchNorm, GroupNorm, InstanceNorm, LayerNorm, Scale
from ..ops.opaque import Opaque
from ..ops.pool import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from ..ops.resample import Pad, Upsample
from ..ops.reshape import Flatten, Permute, Reshape, Slice
from ..shape import Shape
from ._common import Assembler, clean_name, parse_input
from ._onnxwire import strip

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["from_model", "load"]


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise MissingExtraError("onnx", "onnx", "reading ONNX files") from None
    return onnx


def load(path: str | Path, input: object = None) -> Graph:
    """Read an ``.onnx`` file without its weights. ``input`` (``"3x224x224"``) sets the
    per-sample input size (needed when the file leaves it symbolic)."""
    onnx = _onnx()
    path = Path(path)
    data, _ = strip(path, onnx)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError; its module differs between protobuf builds
        raise SourceError(f"{path}: not an ONNX model (protobuf says: {exc})") from None
    return _Importer(onnx, model, str(path), parse_input(input)).run(path.stem)


def from_model(model: Any, *, source: str = "<onnx>", name: str | None = None,
               input: object = None) -> Graph:
    """Turn an ``onnx.ModelProto`` into a Graph (weights, if present, are not looked at;
    the model is not changed)."""
    onnx = _onnx()
    if not isinstance(model, onnx.ModelProto):
        raise SourceError(f"expected an onnx.ModelProto, got {type(model).__name__}")
    own = onnx.ModelProto()
    own.CopyFrom(model)  # the input sizes are fixed in it for shape inference
    return _Importer(onnx, own, source, parse_input(input)).run(name or model.graph.name)


# -- constants -------------------------------------------------------------------------------


@frozen(slots=False)
class _Const:
    """A tensor known before the network runs: an initializer, a Constant, or computed from them."""

    dims: tuple[int, ...] | None  # None: unknown
    data: tuple[Any, ...] | None  # the values, flattened, when known (small tensors only)
    floating: bool
    initializer: str | None = None  # its name, when it is an initializer (counted as weights)
    dtype: int = 0  # onnx.TensorProto.DataType (0: unknown)

    @property
    def numel(self) -> int:
        return math.prod(self.dims) if self.dims is not None else 0


#: ONNX ops that work element by element (with broadcasting): their shape is known without a rule.
_ELEMENTWISE = frozenset((
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "Erf", "Sqrt", "Exp", "Log", "Abs",
    "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Atan", "Not", "And",
    "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Where", "IsNaN", "IsInf",
    "Selu", "Softsign", "ThresholdedRelu", "Celu", "Shrink", "Mod", "BitShift", "PRelu",
))


#: the most elements a constant computed while importing may have (it is never a weight)
_LARGEST_COMPUTED = 1 << 20
#: ops whose output size comes from the values of their (small) inputs: not computed unless ONNX
#: shape inference says how large their output is
_SIZED_BY_VALUES = frozenset((
    "ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot", "EyeLike",
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
    "Loop", "Scan", "CenterCropPad", "Col2Im",
))


class _Unsupported(Exception):
    """A node netarith cannot map exactly: it becomes an opaque layer, with the reason noted."""


_FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16 (onnx.TensorProto.DataType)


class _Importer:
    def __init__(self, onnx: Any, model: Any, source: str, input: Shape | None) -> None:
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.source = source
        self.input = input
        self.asm = Assembler("onnx")
        self.nodes: list[Any] = list(self.graph.node)  # grows with the branches of If nodes it inlines
        self.values: dict[str, str] = {}  # ONNX tensor -> netarith layer
        self.consts: dict[str, _Const] = {}
        self.absorbed: dict[int, str] = {}  # node index -> the layer that already computes it
        self.opset = self._opset()
        self.param_inits: list[str] = []
        self.bn = 0

    # -- the whole model ----------------------------------------------------------------------
    def run(self, name: str | None) -> Graph:
        _check_text(self.graph, self.source)
        if not len(self.graph.node) and not len(self.graph.input):
            raise SourceError(f"{self.source}: the model has no graph (no nodes, no inputs): "
                              "is this an ONNX model?")
        self._initializers()
        self._inputs()
        self.inferred = self._infer_shapes()
        order = self._order()
        self.consumers: dict[str, list[int]] = {}
        for i in order:
            for t in self.nodes[i].input:
                self.consumers.setdefault(t, []).append(i)
        self.outputs = {o.name for o in self.graph.output}
        for i in order:
            try:
                self._node(i)
            except (SpecError, ShapeError, GraphError) as exc:  # every message names the file and node
                if str(exc).startswith(self.source):
                    raise
                raise type(exc)(f"{self.where(i)}: {exc}") from None
            except NetarithError:
                raise
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise self._damaged(i, exc) from None
        self._write_notes()
        return self.asm.graph(clean_name(name, "model") if name else None)

    def _damaged(self, i: int, exc: Exception) -> Exception:
        """What a node's attributes did to a handler that reads them as ONNX declares them: a
        required one left out (KeyError on its name), one of another type or length (int() of a
        list or of text, a short list). Anything else is re-raised: a bug, not a damaged file."""
        node = self.nodes[i]
        attrs = self.attrs(i)
        if isinstance(exc, KeyError):
            key = exc.args[0] if exc.args else None
            if not isinstance(key, str) or key in attrs or key in node.input:
                return exc
            return SourceError(f"{self.where(i)}: the attribute '{key}', which {node.op_type} needs, is missing")
        names = ", ".join(sorted(attrs)) or "none"
        return SourceError(f"{self.where(i)}: its attributes ({names}) do not have the types or lengths "
                           f"{node.op_type} takes ({type(exc).__name__}: {exc})")

    def _opset(self) -> int:
        for imp in self.model.opset_import:
            if imp.domain in ("", "ai.onnx"):
                return int(imp.version)
        return 1

    def where(self, i: int) -> str:
        node = self.nodes[i]
        label = f" '{node.name}'" if node.name else ""
        return f"{self.source}: node {i}{label} ({node.op_type})"

    # -- initializers, inputs, shape inference ---------------------------------------------------
    def _initializers(self) -> None:
        for t in self.graph.initializer:
            self.consts[t.name] = self._tensor(t, t.name)
        for s in self.graph.sparse_initializer:
            self.consts[s.values.name] = _Const(tuple(s.dims), None, s.values.data_type in _FLOAT_TYPES,
                                                s.values.name, s.values.data_type)

    def _tensor(self, t: Any, init: str | None) -> _Const:
        dims = tuple(int(d) for d in t.dims)
        if any(d < 0 for d in dims):
            raise SourceError(f"{self.source}: tensor '{t.name}' has negative dims {list(dims)}")
        data = None
        external = t.data_location == self.onnx.TensorProto.EXTERNAL
        if not external and math.prod(dims) <= 1024 and t.data_type != self.onnx.TensorProto.STRING:
            try:
                from onnx import numpy_helper

                data = tuple(numpy_helper.to_array(t).reshape(-1).tolist())
            except (ValueError, TypeError, KeyError, AttributeError):
                data = None  # declared without data, or a type numpy lacks: the dims are still known
        return _Const(dims, data, t.data_type in _FLOAT_TYPES, init, t.data_type)

    def _inputs(self) -> None:
        real = [v for v in self.graph.input if v.name not in self.consts]
        if not real:
            raise SourceError(f"{self.source}: the model has no input (every graph input is an initializer)")
        if self.input is not None and len(real) > 1:
            names = ", ".join(v.name for v in real)
            raise SourceError(f"{self.source}: the model has several inputs ({names}); --input cannot "
                              "say which one to resize")
        for v in real:
            self._input(v)

    def _input(self, v: Any) -> None:
        tensor = v.type.tensor_type
        if not v.type.HasField("tensor_type") or not tensor.HasField("shape"):
            raise SourceError(f"{self.source}: input '{v.name}' has no tensor shape")
        dims = list(tensor.shape.dim)
        where = f"{self.source}: input '{v.name}'"
        if len(dims) < 2:
            raise SourceError(f"{where} has rank {len(dims)}: netarith needs a batch axis and at "
                              "least one more (channels or features)")
        batch = dims[0]
        if batch.HasField("dim_param") or not batch.HasField("dim_value"):
            label = f"'{batch.dim_param}'" if batch.dim_param else "unnamed"
            self.asm.note(f"the batch axis of input '{v.name}' is symbolic ({label}): shapes are per sample "
                          "(sizes computed from it at run time are read at batch 1)")
            batch.Clear()
            batch.dim_value = 1  # shape inference and the constants computed from shapes see batch 1
        elif batch.dim_value != 1:
            self.asm.note(f"input '{v.name}' has a fixed batch of {batch.dim_value}: shapes are per sample")
        if len(dims) > 5:
            self.asm.note(f"input '{v.name}' has rank {len(dims)}: read as batch, channels and "
                          f"{len(dims) - 2} spatial axes (netarith's conv and pooling take 1 to 3)")
        if self.input is not None:
            if len(self.input.dims) != len(dims) - 1:
                raise SourceError(f"{where} has {len(dims) - 1} axes per sample, but --input "
                                  f"{self.input} has {len(self.input.dims)}")
            per_sample = self.input.dims
            for d, size in zip(dims[1:], per_sample):
                d.Clear()
                d.dim_value = size
        else:
            unknown = [i for i, d in enumerate(dims[1:], 1) if not d.HasField("dim_value") or d.dim_value < 1]
            if unknown:
                names = ", ".join(dims[i].dim_param or f"axis {i}" for i in unknown)
                raise SourceError(f"{where}: its size is symbolic ({names}); give the per-sample input "
                                  "size, e.g. --input 3x224x224")
            per_sample = tuple(int(d.dim_value) for d in dims[1:])
        node = self.asm.add(clean_name(v.name, "input"), Input(shape=Shape(tuple(per_sample))), [], where)
        self.values[v.name] = node

    def _infer_shapes(self) -> dict[str, tuple[int | None, ...]]:
        """ONNX's own shape inference: the shape of every tensor it can tell (None where not)."""
        si = self.onnx.shape_inference
        try:
            inferred = si.infer_shapes(self.model, check_type=False, strict_mode=False, data_prop=True)
        except Exception as exc:  # onnx raises InferenceError, ValueError or RuntimeError here
            raise SourceError(f"{self.source}: ONNX shape inference failed: {exc}") from None
        out: dict[str, tuple[int | None, ...]] = {}
        for v in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
            t = v.type.tensor_type
            if v.type.HasField("tensor_type") and t.HasField("shape"):
                out[v.name] = tuple(int(d.dim_value) if d.HasField("dim_value") else None
                                    for d in t.shape.dim)
        return out

    # -- order: every input known, no cycle ------------------------------------------------------
    def _order(self) -> list[int]:
        nodes = self.graph.node
        producer: dict[str, int] = {}
        for i, node in enumerate(nodes):
            for t in node.output:
                if not t:
                    continue
                if t in producer or t in self.values or t in self.consts:
                    raise SourceError(f"{self.where(i)}: tensor '{t}' is produced twice")
                producer[t] = i
        known = set(self.values) | set(self.consts)
        waiting = []
        users: list[list[int]] = [[] for _ in nodes]
        self.implicit = {i: _outer_names(node) for i, node in enumerate(nodes)}
        for i, node in enumerate(nodes):
            deps = set()
            for t in [*node.input, *self.implicit[i]]:
                if not t or t in known:
                    continue
                if t not in producer:
                    raise GraphError(f"{self.where(i)}: input '{t}' is not a graph input, an "
                                     "initializer or the output of any node")
                deps.add(producer[t])
            waiting.append(len(deps))
            for d in deps:
                users[d].append(i)
        ready = [i for i, w in enumerate(waiting) if w == 0]
        order: list[int] = []
        while ready:
            i = ready.pop(0)
            order.append(i)
            for j in users[i]:
                waiting[j] -= 1
                if waiting[j] == 0:
                    ready.append(j)
            ready.sort()
        if len(order) < len(nodes):
            stuck = [i for i, w in enumerate(waiting) if w]
            raise GraphError(self._cycle(stuck, producer))
        return order

    def _cycle(self, stuck: list[int], producer: dict[str, int]) -> str:
        nodes = self.graph.node
        stuck_set = set(stuck)
        path: list[int] = []
        seen: dict[int, int] = {}
        i = stuck[0]
        while i not in seen:
            seen[i] = len(path)
            path.append(i)
            i = next(producer[t] for t in nodes[i].input if t in producer and producer[t] in stuck_set)
        loop = [*path[seen[i]:], i]
        names = " -> ".join(nodes[j].name or f"node {j} ({nodes[j].op_type})" for j in reversed(loop))
        return f"{self.source}: the nodes form a cycle: {names}"

    # -- one node ------------------------------------------------------------------------------
    def _node(self, i: int) -> None:
        node = self.nodes[i]
        if i in self.absorbed:
            self.values[node.output[0]] = self.absorbed[i]
            return
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            self.consts[node.output[0]] = self._constant(i)
            return
        ins = [t for t in [*node.input, *self.implicit[i]] if t]
        if node.op_type == "If" and self._inline_branch(i):
            return
        if node.op_type in ("Shape", "Size") and node.input[0] in self.values:
            self.consts[node.output[0]] = self._shape_of(i)
            return
        if (ins and all(t in self.consts for t in ins)) or not ins:
            self._static(i)
            return
        handler = _HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        try:
            if handler is None:
                raise _Unsupported("")
            outs = handler(self, i)
        except _Unsupported as why:
            outs = self._opaque(i, str(why))
        except (SpecError, ShapeError) as exc:
            if "\n" in str(exc) or str(exc).startswith(self.source):
                raise
            raise type(exc)(f"{self.where(i)}: {exc}") from None
        for t, layer in zip(node.output, outs):
            if t and layer is not None:
                self.values[t] = layer

    def _constant(self, i: int) -> _Const:
        node = self.nodes[i]
        for a in node.attribute:
            if a.name == "value":
                return self._tensor(a.t, None)
            floating = a.name in ("value_float", "value_floats")
            dtype = self.onnx.TensorProto.FLOAT if floating else self.onnx.TensorProto.INT64
            if a.name in ("value_float", "value_int"):
                value = a.f if a.name == "value_float" else a.i
                return _Const((), (value,), floating, None, dtype)
            if a.name in ("value_floats", "value_ints"):
                values = tuple(a.floats if a.name == "value_floats" else a.ints)
                return _Const((len(values),), values, floating, None, dtype)
        return _Const(self._full(node.output[0]), None, False)

    def _inline_branch(self, i: int) -> bool:
        """An If whose condition is known before the network runs (exporters write them for
        size checks) is the branch it takes: its nodes are read as if they were in the graph."""
        node = self.nodes[i]
        cond = self.consts.get(node.input[0])
        if cond is None or cond.data is None or len(cond.data) != 1:
            return False
        attrs = {a.name: a.g for a in node.attribute}
        branch = attrs["then_branch" if cond.data[0] else "else_branch"]
        for init in branch.initializer:
            self.consts[init.name] = self._tensor(init, init.name)
        for inner in branch.node:
            k = len(self.nodes)
            self.nodes.append(inner)
            self.implicit[k] = _outer_names(inner)
            self._node(k)
        for out, result in zip(node.output, branch.output):
            if result.name in self.values:
                self.values[out] = self.values[result.name]
            elif result.name in self.consts:
                self.consts[out] = self.consts[result.name]
        return True

    def _shape_of(self, i: int) -> _Const:
        """Shape or Size of an activation: its sizes with the batch (1 unless the file fixes it)."""
        node = self.nodes[i]
        x = self.shape(self.values[node.input[0]])
        batch = self._full(node.input[0])
        full = ((batch[0] if batch else 1), *x.dims)
        int64 = self.onnx.TensorProto.INT64
        if node.op_type == "Size":
            return _Const((), (math.prod(full),), False, None, int64)
        attrs = self.attrs(i)
        part = full[slice(attrs.get("start", 0), attrs.get("end"))]
        return _Const((len(part),), tuple(part), False, None, int64)

    def _static(self, i: int) -> None:
        """A node computed from constants (or from shapes): no layer, a constant out."""
        node = self.nodes[i]
        if node.op_type == "Identity" and node.input[0] in self.consts:
            self.consts[node.output[0]] = self.consts[node.input[0]]
            return
        values = self._evaluate(i)
        for k, t in enumerate(node.output):
            if t:
                self.consts[t] = values[k] if values and k < len(values) else _Const(self._full(t), None, False)

    def _evaluate(self, i: int) -> list[_Const] | None:
        """Compute a small node on constants with onnx's reference implementation (pads, reshape
        targets and scales that an exporter computes instead of storing)."""
        node = self.nodes[i]
        ins = [self.consts.get(t) for t in node.input if t]
        if node.domain not in ("", "ai.onnx") or not ins or self.implicit[i] or any(
                c is None or c.data is None or c.dims is None or not c.dtype for c in ins):
            return None
        if not self._small_outputs(i):
            return None
        import numpy as np
        from onnx import helper
        from onnx.reference import ReferenceEvaluator

        try:
            arrays = [np.array(c.data, dtype=helper.tensor_dtype_to_np_dtype(c.dtype)).reshape(c.dims)
                      for c in ins if c is not None and c.dims is not None]
            names = [t for t in node.input if t]
            model = helper.make_model(
                helper.make_graph([node], "one", [], [helper.make_tensor_value_info(o, 0, None)
                                                      for o in node.output if o],
                                  [self.onnx.numpy_helper.from_array(a, n) for a, n in zip(arrays, names)]),
                opset_imports=list(self.model.opset_import))
            results = ReferenceEvaluator(model).run(None, {})
        except Exception:  # onnx's reference ops raise whatever numpy raises: then it stays unknown
            return None
        out = []
        for r in results:
            a = np.asarray(r)
            small = a.size <= 1024
            out.append(_Const(tuple(a.shape), tuple(a.reshape(-1).tolist()) if small else None,
                              a.dtype.kind == "f", None, helper.np_dtype_to_tensor_dtype(a.dtype)))
        return out

    def _small_outputs(self, i: int) -> bool:
        """Whether computing the node cannot allocate much: every output known to be at most
        _LARGEST_COMPUTED elements, or, where ONNX cannot tell, an op whose outputs are not sized
        by its input values. A 100-byte file can ask ConstantOfShape for 40000x40000 floats."""
        node = self.nodes[i]
        for t in node.output:
            if not t:
                continue
            dims = self.inferred.get(t)
            if dims is None or any(d is None or d < 0 for d in dims):
                if node.op_type in _SIZED_BY_VALUES:
                    return False
            elif math.prod(d for d in dims if d is not None) > _LARGEST_COMPUTED:
                return False
        return True

    def _full(self, tensor: str) -> tuple[int, ...] | None:
        dims = self.inferred.get(tensor)
        if dims is None or any(d is None for d in dims):
            return None
        return tuple(d for d in dims if d is not None)

    def _opaque(self, i: int, why: str) -> list[str | None]:
        node = self.nodes[i]
        ins = [self.values[t] for t in [*node.input, *self.implicit[i]] if t in self.values]
        if not ins:
            raise SourceError(f"{self.where(i)}: none of its inputs is an activation netarith follows")
        params = sum(self.consts[t].numel for t in node.input
                     if t in self.consts and self.consts[t].initializer and self.consts[t].floating)
        outs: list[str | None] = []
        for k, t in enumerate(node.output):
            if not t or (k and not self.consumers.get(t) and t not in self.outputs):
                outs.append(None)
                continue
            dims = self.inferred.get(t)
            if (dims is None or len(dims) < 2 or any(d is None for d in dims[1:])) and not k:
                dims = self._elementwise_dims(i)
            if dims is None or len(dims) < 2 or any(d is None for d in dims[1:]):
                raise SourceError(
                    f"{self.where(i)}: netarith has no rule for {node.op_type}"
                    + (f" ({why})" if why else "")
                    + f" and ONNX shape inference gives no per-sample shape for its output '{t}'")
            if any(d is not None and d < 1 for d in dims[1:]):
                raise SourceError(f"{self.where(i)}: ONNX shape inference gives its output '{t}' the shape "
                                  f"{list(dims)}, with sizes below 1: is the file damaged?")
            shape = Shape(tuple(d for d in dims[1:] if d is not None))
            suffix = f".out{k}" if k else ""
            op = Opaque(op=clean_name(node.op_type, "op"), shape=shape, params=params if not k else 0,
                        given=self.shape(ins[0]))
            outs.append(self.asm.add(self.layer_name(i) + suffix, op, ins, self.where(i)))
        if why:
            self.asm.note(f"{self.layer_name(i)} ({node.op_type}): {why}; read as an opaque layer "
                          "(shape from ONNX shape inference, MACs not counted)")
        return outs

    def _elementwise_dims(self, i: int) -> tuple[int | None, ...] | None:
        """The output shape of an elementwise op that ONNX's inference could not tell: the
        broadcast of its inputs (constants aligned to the per-sample rank)."""
        node = self.nodes[i]
        if node.op_type not in _ELEMENTWISE:
            return None
        acts = [self.shape(self.values[t]) for t in node.input if t in self.values]
        rank = len(acts[0].dims)
        shapes = list(acts)
        for t in node.input:
            c = self.consts.get(t) if t not in self.values else None
            if c is None:
                continue
            if c.dims is None:
                return None
            dims = c.dims[1:] if len(c.dims) == rank + 1 else c.dims
            if len(dims) > rank or any(d < 1 for d in dims):
                return None
            shapes.append(Shape((1,) * (rank - len(dims)) + tuple(dims)))
        try:
            return (None, *broadcast(node.op_type, shapes).dims)
        except ShapeError:
            return None

    # -- helpers for the handlers -------------------------------------------------------------------
    def layer_name(self, i: int) -> str:
        node = self.nodes[i]
        fallback = clean_name(node.output[0] if node.output else "", f"{node.op_type.lower()}_{i}")
        return clean_name(node.name, fallback)

    def add(self, i: int, op: Op, ins: Sequence[str], suffix: str = "") -> str:
        return self.asm.add(self.layer_name(i) + suffix, op, ins, self.where(i))

    def attrs(self, i: int) -> dict[str, Any]:
        from onnx import helper

        out: dict[str, Any] = {}
        for a in self.nodes[i].attribute:
            try:
                value = helper.get_attribute_value(a)
                if value is None:
                    raise ValueError(f"no value of type {a.type}")
                out[a.name] = value.decode("utf-8") if isinstance(value, bytes) else value
            except (UnicodeDecodeError, ValueError, TypeError) as exc:  # a damaged file: text that
                # is not UTF-8, an attribute type onnx does not know
                raise SourceError(f"{self.where(i)}: attribute '{a.name}' cannot be read ({exc})") from None
        return out

    def act(self, i: int, k: int) -> str:
        node = self.nodes[i]
        if k >= len(node.input) or not node.input[k]:
            raise SourceError(f"{self.where(i)}: input {k} is missing")
        t = node.input[k]
        if t not in self.values:
            raise _Unsupported(f"its input '{t}' is a constant where netarith expects an activation")
        return self.values[t]

    def const(self, i: int, k: int, what: str, *, optional: bool = False) -> _Const | None:
        node = self.nodes[i]
        if k >= len(node.input) or not node.input[k]:
            if optional:
                return None
            raise SourceError(f"{self.where(i)}: the {what} (input {k}) is missing")
        t = node.input[k]
        if t not in self.consts:
            raise _Unsupported(f"its {what} '{t}' is computed at run time, not stored in the file")
        return self.consts[t]

    def shape(self, layer: str) -> Shape:
        return self.asm.shape(layer)

    def ints(self, attrs: dict[str, Any], key: str, default: Sequence[int]) -> tuple[int, ...]:
        value = attrs.get(key)
        return tuple(int(v) for v in value) if value is not None else tuple(default)

    def const_ints(self, i: int, k: int, what: str) -> tuple[int, ...] | None:
        c = self.const(i, k, what, optional=True)
        if c is None:
            return None
        if c.data is None:
            raise _Unsupported(f"the values of its {what} are not in the file")
        return tuple(int(v) for v in c.data)

    def param(self, i: int, t: str, like: Shape) -> str:
        """A constant operand as a ``param`` layer of this node (each node owns its copy)."""
        c = self.consts[t]
        if c.dims is None:
            raise _Unsupported(f"the shape of its constant operand '{t}' is unknown")
        dims = c.dims
        rank = len(like.dims)
        if len(dims) == rank + 1 and dims[0] == 1:
            dims = dims[1:]
        if len(dims) > rank:
            raise _Unsupported(f"its constant operand '{t}' {list(c.dims)} has a batch axis of its own")
        dims = (1,) * (rank - len(dims)) + dims
        buffer = not (c.initializer and c.floating)
        if not buffer:
            self.param_inits.append(c.initializer or t)
        role = "buffer" if buffer else "learned"
        return self.add(i, Tensor(shape=Shape(dims), role=role), [], "." + clean_name(t, "const"))

    def axis(self, i: int, value: int, rank: int) -> int:
        """An ONNX axis (the batch is 0) as PyTorch's dim: the same number, made non-negative."""
        full = value + rank + 1 if value < 0 else value
        if not 0 <= full <= rank:
            raise SourceError(f"{self.where(i)}: axis {value} is out of range for rank {rank + 1}")
        if full == 0:
            raise _Unsupported("it works along the batch axis")
        return full

    def _write_notes(self) -> None:
        if self.bn:
            self.asm.note(
                f"{self.bn} BatchNormalization layer(s): buffers count PyTorch's num_batches_tracked "
                "(1 each), which ONNX files do not store")
        if self.param_inits:
            shown = ", ".join(self.param_inits[:6]) + (", ..." if len(self.param_inits) > 6 else "")
            self.asm.note(
                f"initializers used directly by elementwise nodes are counted as parameters ({shown}); "
                "ONNX does not say whether PyTorch held them as parameters or buffers")


def _check_text(graph: Any, source: str) -> None:
    """Refuse names that are not UTF-8: protobuf hands them over as bytes, which no name may be."""
    values = [*graph.input, *graph.output, *graph.value_info, *graph.initializer]
    texts: list[Any] = [graph.name, *(v.name for v in values)]
    for node in graph.node:
        texts += [node.name, node.op_type, node.domain, *node.input, *node.output]
        for a in node.attribute:
            texts.append(a.name)
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                _check_text(g, source)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise SourceError(f"{source}: not a valid ONNX model (a name is not UTF-8 text: {bad[:40]!r})")


def _outer_names(node: Any) -> list[str]:
    """Tensors a node's subgraphs (If, Loop, Scan bodies) read from the graph around it."""
    found: list[str] = []
    for a in node.attribute:
        for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            inner = {t.name for t in g.initializer} | {v.name for v in g.input}
            for n in g.node:
                for t in [*n.input, *_outer_names(n)]:
                    if t and t not in inner and t not in found:
                        found.append(t)
                inner.update(n.output)
    return found


# -- handlers: each returns the layer of every output (None where it has none) -------------------

_Handler = Callable[[_Importer, int], list[str | None]]


def _pads(imp: _Importer, i: int, attrs: dict[str, Any], x: Shape, kernel: tuple[int, ...],
          stride: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """auto_pad and pads as netarith padding: 'same' (SAME_UPPER), 'valid', or (before, after) pairs."""
    rank = x.rank
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto == "VALID":
        return "valid"
    if auto == "SAME_UPPER":
        return "same"
    if auto == "SAME_LOWER":
        # ONNX: output ceil(i/s), the odd padding pixel at the start.
        pairs = []
        for size, k, s, d in zip(x.spatial, kernel, stride, dilation):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            pairs.append((total - total // 2, total // 2))
        imp.asm.note(f"{imp.layer_name(i)}: SAME_LOWER padding written out for input {x} "
                     f"({'x'.join(f'{b}+{a}' for b, a in pairs)}); it is not recomputed for another size")
        return tuple(pairs)
    if auto not in ("NOTSET", ""):
        raise SourceError(f"{imp.where(i)}: unknown auto_pad {auto!r}")
    pads = imp.ints(attrs, "pads", (0,) * (2 * rank))
    if len(pads) != 2 * rank:
        raise SourceError(f"{imp.where(i)}: 'pads' has {len(pads)} values for {rank} spatial axes "
                          f"(it needs {2 * rank}: all the starts, then all the ends)")
    if any(p < 0 for p in pads):
        raise _Unsupported(f"negative pads {list(pads)} crop the input")
    return tuple((pads[a], pads[a + rank]) for a in range(rank))


def _window(imp: _Importer, i: int, attrs: dict[str, Any], x: Shape,
            kernel: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], Any]:
    rank = x.rank
    if rank < 1:
        raise ShapeError(f"its input {x} has no spatial axes")
    stride = imp.ints(attrs, "strides", (1,) * rank)
    dilation = imp.ints(attrs, "dilations", (1,) * rank)
    for key, values in (("kernel_shape", kernel), ("strides", stride), ("dilations", dilation)):
        if len(values) != rank:
            raise SourceError(f"{imp.where(i)}: '{key}' has {len(values)} values for {rank} spatial axes")
    return stride, dilation, _pads(imp, i, attrs, x, kernel, stride, dilation)


def _conv(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    w = imp.const(i, 1, "weight")
    assert w is not None and w.dims is not None
    attrs = imp.attrs(i)
    if len(w.dims) != x.rank + 2:
        raise SourceError(f"{imp.where(i)}: weight dims {list(w.dims)} do not fit an input with "
                          f"{x.rank} spatial axes ({x})")
    kernel = tuple(w.dims[2:])
    if "kernel_shape" in attrs and tuple(attrs["kernel_shape"]) != kernel:
        raise SourceError(f"{imp.where(i)}: kernel_shape {list(attrs['kernel_shape'])} differs from "
                          f"the weight's {list(kernel)}")
    group = int(attrs.get("group", 1))
    if w.dims[1] * group != x.channels:
        raise SourceError(f"{imp.where(i)}: weight dims {list(w.dims)} expect {w.dims[1]} x group "
                          f"{group} = {w.dims[1] * group} input channels; the input has {x.channels} ({x})")
    bias = _bias(imp, i, 2, w.dims[0])
    stride, dilation, padding = _window(imp, i, attrs, x, kernel)
    op = Conv(out=w.dims[0], kernel=kernel, stride=stride, padding=padding, dilation=dilation,
              groups=group, bias=bias)
    return [imp.add(i, op, [x_name])]


def _bias(imp: _Importer, i: int, k: int, size: int) -> bool:
    b = imp.const(i, k, "bias", optional=True)
    if b is None:
        return False
    if b.numel != size:
        raise SourceError(f"{imp.where(i)}: the bias has {b.numel} values, not {size}")
    return True


def _conv_transpose(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    w = imp.const(i, 1, "weight")
    assert w is not None and w.dims is not None
    attrs = imp.attrs(i)
    rank = x.rank
    if len(w.dims) != rank + 2 or w.dims[0] != x.channels:
        raise SourceError(f"{imp.where(i)}: weight dims {list(w.dims)} do not fit the input {x} "
                          "(a transposed convolution's weight is in_channels x out/group x kernel)")
    group = int(attrs.get("group", 1))
    kernel = tuple(w.dims[2:])
    stride = imp.ints(attrs, "strides", (1,) * rank)
    dilation = imp.ints(attrs, "dilations", (1,) * rank)
    extra = imp.ints(attrs, "output_padding", (0,) * rank)
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    wanted = imp.ints(attrs, "output_shape", ())
    if len(wanted) == rank + 2:
        wanted = wanted[2:]
    if wanted or auto in ("SAME_UPPER", "SAME_LOWER"):
        # ONNX ConvTranspose: total = s(i-1) + output_padding + k_eff - output; SAME_UPPER puts the
        # smaller half first.
        targets = wanted or tuple(size * s for size, s in zip(x.spatial, stride))
        pads = []
        for size, k, s, d, op, target in zip(x.spatial, kernel, stride, dilation, extra, targets):
            total = s * (size - 1) + op + d * (k - 1) + 1 - target
            if total < 0:
                raise _Unsupported(f"output_shape {list(targets)} needs negative padding")
            half = total // 2
            pads.append((half, total - half) if auto == "SAME_UPPER" else (total - half, half))
        padding: Any = tuple(pads)
    elif auto == "VALID":
        padding = ((0, 0),) * rank
    else:
        padding = _pads(imp, i, attrs, x, kernel, stride, dilation)
    op = ConvTranspose(out=w.dims[1] * group, kernel=kernel, stride=stride, padding=padding,
                       output_padding=extra, dilation=dilation, groups=group,
                       bias=_bias(imp, i, 2, w.dims[1] * group))
    return [imp.add(i, op, [x_name])]


def _pool(imp: _Importer, i: int) -> list[str | None]:
    node = imp.nodes[i]
    if len(node.output) > 1 and node.output[1] and (imp.consumers.get(node.output[1]) or node.output[1] in imp.outputs):
        raise _Unsupported("its indices output is used")
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    kernel = imp.ints(attrs, "kernel_shape", ())
    if not kernel:
        raise SourceError(f"{imp.where(i)}: 'kernel_shape' is missing")
    stride, dilation, padding = _window(imp, i, attrs, x, kernel)
    rounding = "ceil" if int(attrs.get("ceil_mode", 0)) else None
    if node.op_type == "MaxPool":
        op: Op = MaxPool(kernel=kernel, stride=stride, padding=padding, dilation=dilation, rounding=rounding)
    else:
        if any(d != 1 for d in dilation):
            raise _Unsupported("netarith's avgpool has no dilation")
        op = AvgPool(kernel=kernel, stride=stride, padding=padding, rounding=rounding,
                     count_include_pad=bool(int(attrs.get("count_include_pad", 0))))
    return [imp.add(i, op, [x_name])]


def _global_pool(imp: _Importer, i: int) -> list[str | None]:
    op = GlobalAvgPool() if imp.nodes[i].op_type == "GlobalAveragePool" else GlobalMaxPool()
    return [imp.add(i, op, [imp.act(i, 0)])]


def _gemm(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    if int(attrs.get("transA", 0)):
        raise _Unsupported("transA mixes the samples of a batch")
    if len(x.dims) != 1:
        raise SourceError(f"{imp.where(i)}: Gemm needs a matrix (a vector per sample), got {x} per sample")
    b = imp.const(i, 1, "matrix B")
    assert b is not None and b.dims is not None
    if len(b.dims) != 2:
        raise SourceError(f"{imp.where(i)}: B has dims {list(b.dims)}, not a matrix")
    k, n = (b.dims[1], b.dims[0]) if int(attrs.get("transB", 0)) else b.dims
    if k != x.channels:
        raise SourceError(f"{imp.where(i)}: B {list(b.dims)} (transB={int(attrs.get('transB', 0))}) "
                          f"takes {k} features, the input has {x.channels}")
    c = imp.const(i, 2, "C", optional=True) if len(imp.nodes[i].input) > 2 else None
    if c is not None and c.numel != n:
        raise _Unsupported(f"C has {c.numel} values, not a bias of {n}")
    return [imp.add(i, Linear(out=n, bias=c is not None), [x_name])]


def _matmul(imp: _Importer, i: int) -> list[str | None]:
    node = imp.nodes[i]
    a, b = node.input[0], node.input[1]
    if a in imp.values and b in imp.values:
        try:
            return [imp.add(i, MatMul(), [imp.values[a], imp.values[b]])]
        except ShapeError as exc:
            raise _Unsupported(f"netarith's matmul needs equal batch ranks per sample ({exc})") from None
    if a not in imp.values:
        raise _Unsupported("its first operand is a constant")
    x = imp.shape(imp.values[a])
    w = imp.consts[b]
    if w.dims is None or len(w.dims) != 2:
        raise _Unsupported(f"its constant operand has dims {w.dims}, not a matrix")
    if w.dims[0] != x.dims[-1]:
        raise SourceError(f"{imp.where(i)}: {x} @ {list(w.dims)}: the inner sizes differ")
    n = w.dims[1]
    bias_node = _fusable_bias(imp, i, n)
    layer = imp.add(i, Linear(out=n, bias=bias_node is not None), [imp.values[a]])
    if bias_node is not None:
        imp.absorbed[bias_node] = layer
    return [layer]


def _fusable_bias(imp: _Importer, i: int, n: int) -> int | None:
    """The Add that adds a bias of n values to this MatMul's output and nothing else reads it
    (how exporters write nn.Linear on inputs of more than two dims)."""
    out = imp.nodes[i].output[0]
    users = imp.consumers.get(out, [])
    if len(users) != 1 or out in imp.outputs:
        return None
    j = users[0]
    add = imp.nodes[j]
    if add.op_type != "Add" or len(add.input) != 2:
        return None
    other = add.input[1] if add.input[0] == out else add.input[0]
    c = imp.consts.get(other)
    if c is None or c.dims is None or c.numel != n or (c.dims and c.dims[-1] != n) or not c.initializer:
        return None
    return j


_SCALAR_NAMES = {"Add": ("add", "add"), "Sub": ("sub", "rsub"), "Mul": ("mul", "mul"),
                 "Div": ("div", "rdiv"), "Pow": ("pow", "")}
_MERGE_KINDS: dict[str, Callable[[], Op]] = {"Add": Add, "Sum": Add, "Mul": Mul, "Max": Max, "Sub": Sub,
                                             "Div": Div}


def _elementwise(imp: _Importer, i: int) -> list[str | None]:
    node = imp.nodes[i]
    ins = [t for t in node.input if t]
    acts = [t for t in ins if t in imp.values]
    kind = node.op_type
    if len(acts) == len(ins):
        if kind not in _MERGE_KINDS:
            raise _Unsupported("netarith has no kind for it between two activations")
        if len(acts) == 1:  # a Sum or Max of one tensor is that tensor
            return [imp.values[acts[0]]]
        return [imp.add(i, _MERGE_KINDS[kind](), [imp.values[t] for t in acts])]
    if len(acts) != 1 or len(ins) != 2:
        raise _Unsupported("it mixes several constants")
    x_name = imp.values[acts[0]]
    x = imp.shape(x_name)
    t = ins[1] if ins[0] == acts[0] else ins[0]
    c = imp.consts[t]
    if c.numel == 1 and c.data is not None and kind in _SCALAR_NAMES:
        op_name = _SCALAR_NAMES[kind][0 if ins[0] == acts[0] else 1]
        if not op_name:
            raise _Unsupported("a constant raised to a power that varies")
        return [imp.add(i, Scalar(op=op_name, value=float(c.data[0])), [x_name])]
    if kind == "Mul" and c.initializer and c.floating and _per_channel(c, x):
        return [imp.add(i, Scale(), [x_name])]
    if kind not in _MERGE_KINDS or (kind in ("Sub", "Div") and ins[0] != acts[0]):
        raise _Unsupported("netarith has no kind for it with a constant tensor")
    p = imp.param(i, t, x)
    ordered = [x_name, p] if ins[0] == acts[0] else [p, x_name]
    return [imp.add(i, _MERGE_KINDS[kind](), ordered)]


def _per_channel(c: _Const, x: Shape) -> bool:
    """A constant of shape C x 1 x ... x 1 (with or without a leading 1) against C x H x W."""
    if c.dims is None or x.rank < 1:
        return False
    dims = c.dims[1:] if len(c.dims) == len(x.dims) + 1 and c.dims[0] == 1 else c.dims
    return len(dims) == len(x.dims) and dims[0] == x.channels > 1 and all(d == 1 for d in dims[1:])


def _activation(op: Callable[[dict[str, Any]], Op]) -> _Handler:
    def handler(imp: _Importer, i: int) -> list[str | None]:
        return [imp.add(i, op(imp.attrs(i)), [imp.act(i, 0)])]

    return handler


def _hard_sigmoid(attrs: dict[str, Any]) -> Op:
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or beta != 0.5:
        raise _Unsupported(f"HardSigmoid alpha {alpha:g}, beta {beta:g} is not PyTorch's (1/6, 0.5)")
    return act.HardSigmoid()


def _gelu(attrs: dict[str, Any]) -> Op:
    approx = attrs.get("approximate", b"none")
    return act.GELU(approximate=approx.decode() if isinstance(approx, bytes) else str(approx))


def _prelu(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    slope = imp.const(i, 1, "slope")
    assert slope is not None
    if slope.numel == 1:
        return [imp.add(i, act.PReLU(), [x_name])]
    if slope.numel == x.channels:
        return [imp.add(i, act.PReLU(per_channel=True), [x_name])]
    raise _Unsupported(f"a slope of {slope.numel} values is neither one nor one per channel")


def _clip(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    attrs = imp.attrs(i)
    if imp.opset < 11:
        low, high = attrs.get("min"), attrs.get("max")
    else:
        low, high = (_scalar(imp, i, k, what) for k, what in ((1, "min"), (2, "max")))
    low = None if low is None or low == -math.inf or low < -3.4e38 else float(low)
    high = None if high is None or high == math.inf or high > 3.4e38 else float(high)
    if low == 0 and high == 6:
        op: Op = act.ReLU6()
    elif low == 0 and high is None:
        op = act.ReLU()
    else:
        op = act.Clip(min=low, max=high)
    return [imp.add(i, op, [x_name])]


def _scalar(imp: _Importer, i: int, k: int, what: str) -> float | None:
    c = imp.const(i, k, what, optional=True)
    if c is None:
        return None
    if c.data is None or len(c.data) != 1:
        raise _Unsupported(f"its {what} is not a constant number")
    return float(c.data[0])


def _softmax(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    default = 1 if imp.opset < 13 else -1
    dim = imp.axis(i, int(imp.attrs(i).get("axis", default)), len(x.dims))
    cls = act.Softmax if imp.nodes[i].op_type == "Softmax" else act.LogSoftmax
    return [imp.add(i, cls(dim=dim), [x_name])]


def _dropout(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    ratio = imp.attrs(i).get("ratio", 0.5) if imp.opset < 12 else _scalar(imp, i, 1, "ratio")
    return [imp.add(i, act.Dropout(p=0.5 if ratio is None else float(ratio)), [x_name])]


def _alias(imp: _Importer, i: int) -> list[str | None]:
    """Identity, Cast: no arithmetic, no row; the output is the input."""
    return [imp.act(i, 0)]


def _flatten(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    axis = imp.axis(i, int(imp.attrs(i).get("axis", 1)), len(x.dims))
    if axis != 1:
        raise _Unsupported(f"Flatten at axis {axis} merges the batch with other axes")
    return [imp.add(i, Flatten(), [x_name])]


def _reshape_like(imp: _Importer, i: int) -> list[str | None]:
    """Reshape, Squeeze, Unsqueeze: a per-sample reshape to the shape ONNX infers, or, for
    Reshape, to its constant target (0 copies a size, -1 takes the rest)."""
    node = imp.nodes[i]
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    dims = imp.inferred.get(node.output[0])
    target: tuple[int, ...] | None = None
    if dims is not None and len(dims) >= 2 and all(d is not None for d in dims[1:]):
        target = tuple(d for d in dims[1:] if d is not None)
    elif node.op_type in ("Squeeze", "Unsqueeze"):
        target = _squeezed(imp, i, x)
    elif node.op_type == "Reshape":
        target = _reshape_target(imp, i, x)
        if target is None and _output_rank(imp, i) == 2:
            # x.view(x.size(0), -1): the target is computed from the input's shape at run time,
            # but a batch axis and one more can only be each sample flattened.
            target = (x.numel,)
            imp.asm.note(f"{imp.layer_name(i)}: its target shape is computed at run time; read as "
                          "flattening each sample (batch, -1), the only per-sample shape of rank 1")
    if target is None:
        raise _Unsupported("its target shape is known only at run time")
    if math.prod(target) != x.numel:
        raise _Unsupported(f"it moves elements between the samples of a batch ({x} to {target})")
    return [imp.add(i, Reshape(shape=target), [x_name])]


def _squeezed(imp: _Importer, i: int, x: Shape) -> tuple[int, ...] | None:
    """Squeeze or Unsqueeze by their axes (ONNX axes count the batch as 0)."""
    node = imp.nodes[i]
    axes = imp.ints(imp.attrs(i), "axes", ()) if imp.opset < 13 else imp.const_ints(i, 1, "axes")
    full = [1, *x.dims]
    if node.op_type == "Squeeze":
        if axes is None:
            axes = tuple(a for a, d in enumerate(full) if d == 1 and a)
        drop = {a + len(full) if a < 0 else a for a in axes}
        if 0 in drop or any(not 0 <= a < len(full) or full[a] != 1 for a in drop):
            return None
        return tuple(d for a, d in enumerate(full) if a not in drop)[1:]
    if not axes:
        return None
    rank = len(full) + len(axes)
    add = {a + rank if a < 0 else a for a in axes}
    if 0 in add or any(not 0 <= a < rank for a in add):
        return None
    rest = iter(full)
    return tuple(1 if a in add else next(rest) for a in range(rank))[1:]


def _output_rank(imp: _Importer, i: int) -> int | None:
    """The rank of a Reshape's output: from shape inference, or from its target's length."""
    node = imp.nodes[i]
    dims = imp.inferred.get(node.output[0])
    if dims is not None:
        return len(dims)
    target = imp.consts.get(node.input[1])
    return target.dims[0] if target is not None and target.dims is not None and len(target.dims) == 1 else None


def _reshape_target(imp: _Importer, i: int, x: Shape) -> tuple[int, ...] | None:
    c = imp.consts.get(imp.nodes[i].input[1])
    shape = tuple(int(v) for v in c.data) if c is not None and c.data is not None else None
    if shape is None or not shape or shape[0] not in (0, -1, 1):
        return None
    dims = []
    for k, d in enumerate(shape[1:]):
        if d == 0:
            if k >= len(x.dims):
                return None
            d = x.dims[k]
        dims.append(d)
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or x.numel % known:
            return None
        dims = [x.numel // known if d == -1 else d for d in dims]
    return tuple(dims) if -1 not in dims else None


def _transpose(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    rank = len(x.dims) + 1
    perm = imp.ints(imp.attrs(i), "perm", tuple(reversed(range(rank))))
    perm = tuple(p % rank for p in perm)  # torch's exporter can write movedim(-1, 1) as perm [0, -1, 1, 2]
    if not perm or perm[0] != 0:
        raise _Unsupported("it moves the batch axis")
    return [imp.add(i, Permute(order=perm), [x_name])]


def _slice(imp: _Importer, i: int) -> list[str | None]:
    """Slice with constant starts, ends, axes and steps (opset 10+; attributes before): one
    ``slice`` layer per axis (torch exports ``x.chunk(2, dim=1)[0]`` this way)."""
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    if imp.opset < 10:
        attrs = imp.attrs(i)
        starts, ends = imp.ints(attrs, "starts", ()), imp.ints(attrs, "ends", ())
        axes: tuple[int, ...] | None = imp.ints(attrs, "axes", ()) or None
        steps: tuple[int, ...] | None = None
    else:
        starts_c, ends_c = imp.const_ints(i, 1, "starts"), imp.const_ints(i, 2, "ends")
        if starts_c is None or ends_c is None:
            raise _Unsupported("its starts and ends are computed at run time")
        starts, ends = starts_c, ends_c
        axes = imp.const_ints(i, 3, "axes") if len(imp.nodes[i].input) > 3 else None
        steps = imp.const_ints(i, 4, "steps") if len(imp.nodes[i].input) > 4 else None
    rank = len(x.dims) + 1
    axes = axes or tuple(range(len(starts)))
    steps = steps or (1,) * len(starts)
    name = x_name
    for n, (axis, start, end, step) in enumerate(zip(axes, starts, ends, steps)):
        axis %= rank
        if axis == 0:
            raise _Unsupported("it slices the batch axis")
        huge = 2**62  # ONNX writes "to the end" as INT64_MAX
        op = Slice(dim=axis, start=max(-huge, min(start, huge)), end=None if end >= huge else end, step=step)
        name = imp.add(i, op, [name], "" if n == len(axes) - 1 else f".axis{axis}")
    return [name]


def _lrn(imp: _Importer, i: int) -> list[str | None]:
    attrs = imp.attrs(i)
    op = LRN(size=int(attrs["size"]), alpha=float(attrs.get("alpha", 1e-4)),
             beta=float(attrs.get("beta", 0.75)), k=float(attrs.get("bias", 1.0)))
    return [imp.add(i, op, [imp.act(i, 0)])]


_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pad(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    mode = attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    rank = len(x.dims) + 1
    if imp.opset < 11:
        pads = imp.ints(attrs, "pads", ())
        value = float(attrs.get("value", 0.0))
    else:
        pads = imp.const_ints(i, 1, "pads") or ()
        value = _scalar(imp, i, 2, "constant value") or 0.0
        axes = imp.const_ints(i, 3, "axes")
        if axes is not None:
            full = [0] * (2 * rank)
            for n, a in enumerate(axes):
                a = a + rank if a < 0 else a
                full[a], full[a + rank] = pads[n], pads[n + len(axes)]
            pads = tuple(full)
    if len(pads) != 2 * rank:
        raise SourceError(f"{imp.where(i)}: 'pads' has {len(pads)} values for rank {rank}")
    if pads[0] or pads[1] or pads[rank] or pads[rank + 1]:
        raise _Unsupported("it pads the batch or channel axis")
    if any(p < 0 for p in pads):
        raise _Unsupported("negative pads crop the input")
    if mode not in _PAD_MODES:
        raise _Unsupported(f"pad mode {mode!r}")
    padding = tuple((pads[a], pads[a + rank]) for a in range(2, rank))
    return [imp.add(i, Pad(padding=padding, mode=_PAD_MODES[mode], value=value), [x_name])]


_LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _resize(imp: _Importer, i: int) -> list[str | None]:
    node = imp.nodes[i]
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    mode = attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    kind = {"nearest": "nearest", "linear": _LINEAR_MODES.get(x.rank, ""), "bilinear": "bilinear",
            "cubic": "bicubic" if x.rank == 2 else ""}.get(mode, "")
    if not kind:
        raise _Unsupported(f"mode {mode!r} on {x.rank} spatial axes")
    if "axes" in attrs:
        raise _Unsupported("its 'axes' attribute")
    align = attrs.get("coordinate_transformation_mode", b"")
    align_corners = (align.decode() if isinstance(align, bytes) else str(align)) == "align_corners" or None
    scales: tuple[float, ...] | None = None
    sizes: tuple[int, ...] | None = None
    if node.op_type == "Upsample" and imp.opset < 9:
        scales = tuple(float(s) for s in attrs.get("scales", ()))
    elif node.op_type == "Upsample" or imp.opset < 11:
        c = imp.const(i, 1, "scales")
        scales = tuple(float(v) for v in c.data) if c is not None and c.data else None
    else:
        c = imp.const(i, 2, "scales", optional=True)
        scales = tuple(float(v) for v in c.data) if c is not None and c.data else None
        sz = imp.const(i, 3, "sizes", optional=True)
        sizes = tuple(int(v) for v in sz.data) if sz is not None and sz.data else None
    full = len(x.dims) + 1
    if scales:
        if len(scales) != full or scales[0] != 1 or scales[1] != 1:
            raise _Unsupported(f"scales {list(scales)} change the batch or the channels")
        op = Upsample(scale=tuple(Fraction(s) for s in scales[2:]), mode=kind, align_corners=align_corners)
    else:
        if sizes is None:
            dims = imp.inferred.get(node.output[0])
            if dims is None or any(d is None for d in dims[1:]):
                raise _Unsupported("its output size is known only at run time")
            sizes = tuple(d for d in dims if d is not None)
            sizes = (1, *sizes) if len(sizes) == full - 1 else sizes
        if len(sizes) != full or sizes[1] != x.channels:
            raise _Unsupported(f"sizes {list(sizes)} change the channels")
        op = Upsample(size=tuple(sizes[2:]), mode=kind, align_corners=align_corners)
    return [imp.add(i, op, [x_name])]


def _batchnorm(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    for k, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")):
        c = imp.const(i, k, what)
        assert c is not None
        if c.dims is not None and c.numel != x.channels:
            raise SourceError(f"{imp.where(i)}: the {what} has {c.numel} values for {x.channels} channels")
    imp.bn += 1
    eps = float(imp.attrs(i).get("epsilon", 1e-5))
    return [imp.add(i, BatchNorm(affine=True, stats=True, eps=eps), [x_name])]


def _instancenorm(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    for k, what in ((1, "scale"), (2, "bias")):
        c = imp.const(i, k, what)
        assert c is not None
        if c.dims is not None and c.numel != x.channels:
            raise SourceError(f"{imp.where(i)}: the {what} has {c.numel} values for {x.channels} channels")
    eps = float(imp.attrs(i).get("epsilon", 1e-5))
    return [imp.add(i, InstanceNorm(affine=True, eps=eps), [x_name])]


def _layernorm(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    axis = imp.axis(i, int(attrs.get("axis", -1)), len(x.dims))
    dims = len(x.dims) + 1 - axis
    size = math.prod(x.dims[-dims:])
    scale = imp.const(i, 1, "scale")
    bias = imp.const(i, 2, "bias", optional=True)
    assert scale is not None
    for c, what in ((scale, "scale"), (bias, "bias")):
        if c is not None and c.dims is not None and c.numel != size:
            raise SourceError(f"{imp.where(i)}: the {what} has {c.numel} values for {size} normalised")
    op = LayerNorm(dims=dims, bias=bias is not None, eps=float(attrs.get("epsilon", 1e-5)))
    return [imp.add(i, op, [x_name])]


def _groupnorm(imp: _Importer, i: int) -> list[str | None]:
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    scale = imp.const(i, 1, "scale")
    assert scale is not None
    if scale.numel != x.channels:
        raise _Unsupported(f"a scale per group ({scale.numel} values), as opset 18 has, is not PyTorch's")
    op = GroupNorm(groups=int(attrs["num_groups"]), eps=float(attrs.get("epsilon", 1e-5)))
    return [imp.add(i, op, [x_name])]


def _concat(imp: _Importer, i: int) -> list[str | None]:
    node = imp.nodes[i]
    ins = [t for t in node.input if t]
    like = next(imp.shape(imp.values[t]) for t in ins if t in imp.values)
    dim = imp.axis(i, int(imp.attrs(i).get("axis", 1)), len(like.dims))
    layers = [imp.values[t] if t in imp.values else imp.param(i, t, like) for t in ins]
    return [imp.add(i, Concat(dim=dim), layers)]


def _reduce_mean(imp: _Importer, i: int) -> list[str | None]:
    """A mean over every spatial axis is global average pooling (how torch writes x.mean((2, 3)))."""
    x_name = imp.act(i, 0)
    x = imp.shape(x_name)
    attrs = imp.attrs(i)
    axes = imp.ints(attrs, "axes", ()) if imp.opset < 18 else imp.const_ints(i, 1, "axes")
    rank = len(x.dims) + 1
    spatial = set(range(2, rank))
    if not axes or {a + rank if a < 0 else a for a in axes} != spatial or x.rank < 1:
        raise _Unsupported("it is not a mean over every spatial axis")
    if int(attrs.get("keepdims", 1)):
        return [imp.add(i, GlobalAvgPool(), [x_name])]
    pooled = imp.add(i, GlobalAvgPool(), [x_name], ".pool")
    return [imp.add(i, Flatten(), [pooled])]


def _simple(cls: Callable[[], Op]) -> _Handler:
    return _activation(lambda attrs: cls())


_HANDLERS: dict[str, _Handler] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _elementwise,
    "Sub": _elementwise,
    "Mul": _elementwise,
    "Div": _elementwise,
    "Pow": _elementwise,
    "Sum": _elementwise,
    "Max": _elementwise,
    "Relu": _simple(act.ReLU),
    "LeakyRelu": _activation(lambda a: act.LeakyReLU(slope=float(a.get("alpha", 0.01)))),
    "Sigmoid": _simple(act.Sigmoid),
    "Tanh": _simple(act.Tanh),
    "Elu": _activation(lambda a: act.ELU(alpha=float(a.get("alpha", 1.0)))),
    "Softplus": _simple(act.Softplus),
    "HardSigmoid": _activation(_hard_sigmoid),
    "HardSwish": _simple(act.HardSwish),
    "Mish": _simple(act.Mish),
    "Gelu": _activation(_gelu),
    "PRelu": _prelu,
    "Clip": _clip,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "Dropout": _dropout,
    "Identity": _alias,
    "Cast": _alias,
    "Flatten": _flatten,
    "Reshape": _reshape_like,
    "Squeeze": _reshape_like,
    "Unsqueeze": _reshape_like,
    "Transpose": _transpose,
    "Slice": _slice,
    "LRN": _lrn,
    "Pad": _pad,
    "Resize": _resize,
    "Upsample": _resize,
    "BatchNormalization": _batchnorm,
    "InstanceNormalization": _instancenorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "Concat": _concat,
    "ReduceMean": _reduce_mean,
}

