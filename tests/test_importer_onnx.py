"""The ONNX importer.

Oracles: onnxruntime running each model made here with onnx.helper (every layer's
output shape), onnx's own shape inference (the same shapes, except where it does not
drop a ceil-mode window starting in the padding, which onnxruntime and onnx's
reference implementation do), the element counts of the initializers each test
writes, and PyTorch: models exported by torch.onnx must give the module's own
parameter and buffer counts and the same totals as netarith's analysis of the
notation they were built from.
"""

from __future__ import annotations

import os
import sys
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from netarith import (
    GraphError,
    MissingExtraError,
    NetarithError,
    Report,
    ShapeError,
    SourceError,
    analyze,
    parse,
    to_notation,
    to_torch,
)
from netarith.cli import main
from netarith.sources import LOADERS

if os.environ.get("CI"):
    import numpy as np
    import onnx
    import onnxruntime as ort
else:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    np = pytest.importorskip("numpy")

from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

RNG = np.random.default_rng(0)


def _array(*dims: int, dtype: Any = np.float32) -> Any:
    return RNG.standard_normal(dims).astype(dtype) if dims else np.asarray(RNG.standard_normal(), dtype=dtype)


def _model(nodes: list[Any], x: tuple[Any, ...], inits: dict[str, Any], opset: int = 17,
           expose: bool | list[str] = True, name: str = "x") -> Any:
    """A model with one input; every node output (or those listed) is also a graph output, so
    that onnxruntime shows it."""
    every = [o for n in nodes for o in n.output if o]
    outputs = every if expose is True else expose or [nodes[-1].output[0]]
    graph = h.make_graph(
        nodes, "test", [h.make_tensor_value_info(name, T.FLOAT, list(x))],
        [h.make_tensor_value_info(o, T.FLOAT, None) for o in outputs],
        [nh.from_array(v, k) for k, v in inits.items()],
    )
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8 if opset < 19 else 9
    return m


def _node(op: str, ins: list[str], out: str, **attrs: Any) -> Any:
    return h.make_node(op, ins, [out], name=out, **attrs)


def _run(model: Any, x: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: RNG.standard_normal(x).astype(np.float32)}
    names = [o.name for o in session.get_outputs()]
    return {n: tuple(v.shape) for n, v in zip(names, session.run(None, feed))}


def _inferred(model: Any) -> dict[str, tuple[int, ...]]:
    out = {}
    for v in onnx.shape_inference.infer_shapes(model).graph.output:
        dims = v.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            out[v.name] = tuple(d.dim_value for d in dims)
    return out


def _check(tmp_path: Path, model: Any, *, params: int, buffers: int = 0, ceil: bool = False,
           layers: dict[str, str | None] | None = None) -> Report:
    """Import from a file; compare every output with onnxruntime and with ONNX shape inference.
    ``layers`` maps ONNX tensors to the layer that holds them where the names differ (None: none)."""
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    report = analyze(path)
    x = tuple(d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim)
    ran = _run(model, x)
    inferred = _inferred(model)
    layers = layers or {}
    for tensor, dims in ran.items():
        name = layers.get(tensor, tensor)
        if name is None:
            continue
        layer = report[name]
        assert dims[1:] == layer.shape.dims, (name, dims)
        if not ceil and tensor in inferred:
            assert inferred[tensor][1:] == layer.shape.dims, name
    assert (report.totals.params, report.totals.buffers) == (params, buffers)
    return report


X = (1, 3, 10, 9)
W = _array(4, 3, 3, 3)
B = _array(4)


def _conv(**attrs: Any) -> tuple[Any, int]:
    return _model([_node("Conv", ["x", "W", "B"], "y", **attrs)], X, {"W": W, "B": B}), W.size + B.size


CONV_CASES = {
    "asymmetric pads, strides": dict(pads=[0, 1, 2, 1], strides=[2, 1]),
    "SAME_UPPER strided": dict(auto_pad="SAME_UPPER", strides=[2, 2]),
    "SAME_LOWER strided": dict(auto_pad="SAME_LOWER", strides=[2, 3]),
    "VALID dilated": dict(auto_pad="VALID", dilations=[2, 2]),
    "kernel_shape given": dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
}


@pytest.mark.parametrize("attrs", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv(tmp_path: Path, attrs: dict[str, Any]) -> None:
    model, params = _conv(**attrs)
    r = _check(tmp_path, model, params=params)
    assert r["y"].kind == "conv" and r.convention.name == "onnx"


def test_conv_groups_1d_3d(tmp_path: Path) -> None:
    dw = _array(8, 1, 3, 3)
    model = _model([_node("Conv", ["x", "W"], "y", group=4, pads=[1, 1, 1, 1])], (1, 4, 7, 7), {"W": dw})
    assert _check(tmp_path, model, params=dw.size)["y"].macs == 8 * 7 * 7 * 9
    w1 = _array(5, 2, 4)
    _check(tmp_path, _model([_node("Conv", ["x", "W"], "y", strides=[3])], (1, 2, 20), {"W": w1}), params=w1.size)
    w3 = _array(2, 2, 3, 1, 2)
    _check(tmp_path, _model([_node("Conv", ["x", "W"], "y", pads=[1, 0, 0, 0, 0, 1])], (1, 2, 4, 5, 6), {"W": w3}),
           params=w3.size)


CONVT_CASES = {
    "pads, output_padding": dict(strides=[2, 2], pads=[1, 0, 1, 2], output_padding=[1, 0]),
    "output_shape": dict(strides=[2, 2], output_shape=[9, 10]),
    "SAME_UPPER": dict(strides=[2, 3], auto_pad="SAME_UPPER"),
    "dilated": dict(dilations=[2, 1], strides=[1, 2]),
}


@pytest.mark.parametrize("attrs", CONVT_CASES.values(), ids=CONVT_CASES.keys())
def test_conv_transpose(tmp_path: Path, attrs: dict[str, Any]) -> None:
    w = _array(4, 2, 3, 3)
    b = _array(4)
    model = _model([_node("ConvTranspose", ["x", "W", "B"], "y", group=2, **attrs)], (1, 4, 4, 5), {"W": w, "B": b})
    r = _check(tmp_path, model, params=w.size + b.size)
    assert r["y"].macs == 4 * 5 * w.size  # counted on the input side: every input pixel meets every weight


POOL_CASES = {
    "max ceil asymmetric": ("MaxPool", dict(kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 0, 1], ceil_mode=1), True),
    "max ceil clipped": ("MaxPool", dict(kernel_shape=[1, 1], strides=[2, 2], ceil_mode=1), True),
    "max dilated": ("MaxPool", dict(kernel_shape=[2, 2], dilations=[2, 2]), False),
    "max SAME_UPPER": ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"), False),
    "max big pads": ("MaxPool", dict(kernel_shape=[2, 2], pads=[1, 1, 1, 1]), False),
    "avg include pad ceil": ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                                 count_include_pad=1, ceil_mode=1), True),
    "avg SAME_LOWER": ("AveragePool", dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_LOWER"), False),
}


@pytest.mark.parametrize(("op", "attrs", "ceil"), POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pool(tmp_path: Path, op: str, attrs: dict[str, Any], ceil: bool) -> None:
    _check(tmp_path, _model([_node(op, ["x"], "y", **attrs)], (1, 2, 10, 7), {}), params=0, ceil=ceil)


def test_onnx_shape_inference_skips_the_ceil_clip(tmp_path: Path) -> None:
    # Why the ceil cases trust onnxruntime: onnx 1.23's shape inference keeps a window that starts
    # in the right padding, which onnxruntime and onnx's own reference implementation drop.
    model = _model([_node("MaxPool", ["x"], "y", kernel_shape=[1], strides=[2], ceil_mode=1)], (1, 1, 32), {})
    assert _inferred(model)["y"] == (1, 1, 17) and _run(model, (1, 1, 32))["y"] == (1, 1, 16)
    assert _check(tmp_path, model, params=0, ceil=True)["y"].shape.dims == (1, 16)


def test_dense_layers(tmp_path: Path) -> None:
    w1, b1, w2, w3, b3 = _array(20, 90), _array(20), _array(20, 7), _array(7, 5), _array(5)
    nodes = [
        _node("GlobalAveragePool", ["x"], "gap"),
        _node("GlobalMaxPool", ["x"], "gmp"),
        _node("Flatten", ["x"], "flat"),
        _node("Gemm", ["flat", "W1", "B1"], "fc1", transB=1),
        _node("Gemm", ["fc1", "W2"], "fc2"),
        _node("Unsqueeze", ["fc2", "ax"], "u"),
        _node("MatMul", ["u", "W3"], "mm"),
        _node("Add", ["mm", "B3"], "lin"),
    ]
    inits = {"W1": w1, "B1": b1, "W2": w2, "W3": w3, "B3": b3, "ax": np.array([1], np.int64)}
    r = _check(tmp_path, _model(nodes, (1, 10, 3, 3), inits), params=w1.size + b1.size + w2.size + w3.size + b3.size)
    assert [r[n].kind for n in ("fc1", "fc2", "mm", "lin")] == ["linear", "linear", "linear", "add"]
    assert r["lin.B3"].kind == "tensor"  # exposed, the MatMul's output is not only the Add's
    # without the intermediate outputs exposed, MatMul + Add of its bias is one linear layer
    model = _model(nodes, (1, 10, 3, 3), inits, expose=False)
    path = tmp_path / "fused.onnx"
    onnx.save(model, str(path))
    fused = analyze(path)
    assert fused["mm"].kind == "linear" and fused["mm"].params == w3.size + b3.size and "lin" not in fused.graph
    assert fused.totals.params == r.totals.params


def test_attention_matmul(tmp_path: Path) -> None:
    nodes = [_node("Transpose", ["x"], "kt", perm=[0, 1, 3, 2]), _node("MatMul", ["x", "kt"], "qk"),
             _node("Softmax", ["qk"], "attn", axis=-1), _node("MatMul", ["attn", "x"], "out")]
    r = _check(tmp_path, _model(nodes, (1, 4, 6, 5), {}), params=0)
    assert r["qk"].macs == 4 * 6 * 6 * 5 and r["out"].macs == 4 * 6 * 5 * 6


def test_activations(tmp_path: Path) -> None:
    slope = _array(3, 1, 1)
    nodes = [
        _node("Relu", ["x"], "a1"), _node("LeakyRelu", ["a1"], "a2", alpha=0.2), _node("Sigmoid", ["a2"], "a3"),
        _node("Tanh", ["a3"], "a4"), _node("Elu", ["a4"], "a5", alpha=0.5), _node("Softplus", ["a5"], "a6"),
        _node("HardSigmoid", ["a6"], "a7", alpha=1 / 6), _node("HardSwish", ["a7"], "a8"),
        _node("Mish", ["a8"], "a9"), _node("Gelu", ["a9"], "a10", approximate="tanh"),
        _node("PRelu", ["a10", "slope"], "a11"),
        _node("Clip", ["a11", "zero", "six"], "a12"), _node("Clip", ["a12", "m1", "one"], "a13"),
        _node("Clip", ["a13", "zero"], "a14"), _node("Softmax", ["a14"], "a15", axis=1),
        _node("LogSoftmax", ["a15"], "a16", axis=-1), _node("Identity", ["a16"], "a17"),
        _node("Dropout", ["a17", "ratio"], "a18"),
    ]
    scalars = {"zero": 0.0, "six": 6.0, "m1": -1.0, "one": 1.0, "ratio": 0.3}
    inits = {"slope": slope, **{k: np.array(v, np.float32) for k, v in scalars.items()}}
    r = _check(tmp_path, _model(nodes, (1, 3, 4, 4), inits, opset=20), params=slope.size, layers={"a17": "a16"})
    kinds = [r[f"a{i}"].kind for i in range(1, 17)] + [r["a18"].kind]
    assert kinds == ["relu", "leakyrelu", "sigmoid", "tanh", "elu", "softplus", "hardsigmoid", "hardswish",
                     "mish", "gelu", "prelu", "relu6", "clip", "relu", "softmax", "logsoftmax", "dropout"]
    assert "a17" not in r.graph and r["a18"].inputs == ("a16",)  # Identity makes no layer


def test_batchnorm_and_norms(tmp_path: Path) -> None:
    c = 5
    bn = {k: _array(c) for k in ("s", "b", "m")} | {"v": np.abs(_array(c)) + 1}
    ln_s, ln_b = _array(6, 7), _array(6, 7)
    nodes = [
        _node("BatchNormalization", ["x", "s", "b", "m", "v"], "bn"),
        _node("InstanceNormalization", ["bn", "s", "b"], "inorm"),
        _node("LayerNormalization", ["inorm", "ls", "lb"], "ln", axis=-2),
        _node("LRN", ["ln"], "lrn", size=3, alpha=1e-3, beta=0.5, bias=2.0),
    ]
    r = _check(tmp_path, _model(nodes, (1, c, 6, 7), {**bn, "ls": ln_s, "lb": ln_b}),
               params=2 * c + 2 * c + 2 * 42, buffers=2 * c + 1)
    assert r["bn"].params == 2 * c and r["bn"].buffers == 2 * c + 1  # + PyTorch's num_batches_tracked
    assert any("num_batches_tracked" in w for _, w in r.warnings)


def test_merges_and_constants(tmp_path: Path) -> None:
    pc, gamma, pos = _array(1, 3, 1, 1), _array(3, 1, 1), _array(1, 3, 5, 5)
    nodes = [
        _node("Conv", ["x", "W"], "c"), _node("Concat", ["x", "c"], "cat", axis=1),
        _node("Add", ["x", "c"], "add"), _node("Mul", ["add", "x"], "mul"), _node("Max", ["mul", "x"], "max"),
        _node("Sum", ["max", "x", "add"], "sum"),
        _node("Mul", ["sum", "half"], "scaled"), _node("Div", ["six", "scaled"], "rdiv"),
        _node("Add", ["rdiv", "pc"], "bias"), _node("Mul", ["bias", "gamma"], "ls"),
        _node("Add", ["ls", "pos"], "emb"), _node("Sub", ["emb", "x"], "sub"), _node("Div", ["sub", "x"], "div"),
        _node("Min", ["div", "x"], "min"),
    ]
    w = _array(3, 3, 1, 1)
    inits = {"W": w, "pc": pc, "gamma": gamma, "pos": pos, "half": np.array(0.5, np.float32),
             "six": np.array(6.0, np.float32)}
    r = _check(tmp_path, _model(nodes, (1, 3, 5, 5), inits), params=w.size + pc.size + gamma.size + pos.size)
    assert [r[n].kind for n in ("cat", "add", "mul", "max", "sum", "scaled", "rdiv", "bias", "ls", "emb")] == [
        "concat", "add", "mul", "max", "add", "scalar", "scalar", "add", "scale", "add"]
    assert r["bias.pc"].kind == "tensor" and r["bias.pc"].shape.dims == (3, 1, 1)
    assert r["emb.pos"].params == pos.size
    assert (r["sub"].kind, r["div"].kind) == ("sub", "div")
    assert r["min"].kind == "opaque" and r.totals.not_counted == ("min",)  # no rule: not counted, never zero
    assert ("min", "Min: netarith has no rule for it; its macs are not counted") in r.warnings


def test_reshapes(tmp_path: Path) -> None:
    nodes = [
        _node("Reshape", ["x", "s1"], "r1"), _node("Reshape", ["r1", "s2"], "r2"),
        _node("Unsqueeze", ["r2", "ax"], "u"), _node("Squeeze", ["u", "ax"], "sq"),
        _node("Transpose", ["sq"], "t", perm=[0, 2, 1]), _node("Flatten", ["t"], "f"),
        _node("Shape", ["x"], "shape"), _node("Gather", ["shape", "zero"], "n"),
        _node("Unsqueeze", ["n", "zero_ax"], "n1"), _node("Concat", ["n1", "m1"], "target", axis=0),
        _node("Reshape", ["x", "target"], "dyn"),
    ]
    inits = {"s1": np.array([0, 4, -1], np.int64), "s2": np.array([-1, 2, 30], np.int64),
             "ax": np.array([1], np.int64), "zero": np.array(0, np.int64), "zero_ax": np.array([0], np.int64),
             "m1": np.array([-1], np.int64)}
    floats = ["r1", "r2", "u", "sq", "t", "f", "dyn"]
    r = _check(tmp_path, _model(nodes, (1, 4, 5, 6), inits, expose=floats), params=0)
    assert "shape" not in r.graph and "target" not in r.graph  # shape arithmetic makes no layers
    symbolic = _model(nodes, ("N", 4, 5, 6), inits, expose=floats)
    path = tmp_path / "sym.onnx"
    onnx.save(symbolic, str(path))
    r = analyze(path)  # x.view(x.size(0), -1) with a symbolic batch: the target is computed at run time
    assert r["dyn"].shape.dims == (120,) and any("read at batch 1" in w for _, w in r.warnings)


def test_resample_and_pad(tmp_path: Path) -> None:
    nodes = [
        _node("Pad", ["x", "pads"], "p1"), _node("Pad", ["p1", "pads2"], "p2", mode="reflect"),
        _node("Resize", ["p2", "", "scales"], "up"), _node("Resize", ["up", "", "", "sizes"], "lin", mode="linear"),
        _node("Resize", ["lin", "", "scales3"], "third", mode="cubic"),
        _node("ReduceMean", ["third"], "mean", axes=[2, 3], keepdims=0),
        _node("ReduceMean", ["third"], "mean_k", axes=[-1, -2]),
    ]
    inits = {"pads": np.array([0, 0, 1, 0, 0, 0, 2, 1], np.int64),
             "pads2": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
             "scales": np.array([1, 1, 2, 1.5], np.float32), "sizes": np.array([1, 2, 13, 17], np.int64),
             "scales3": np.array([1, 1, 1 / 3, 0.5], np.float32)}
    r = _check(tmp_path, _model(nodes, (1, 2, 5, 4), inits), params=0)
    assert [r[n].kind for n in ("p1", "p2", "up", "lin", "third", "mean_k")] == [
        "pad", "pad", "upsample", "upsample", "upsample", "globalavgpool"]


def test_old_opsets(tmp_path: Path) -> None:
    nodes = [_node("Upsample", ["x", "scales"], "up"), _node("Pad", ["up"], "pad", pads=[0, 0, 1, 1, 0, 0, 1, 1]),
             _node("Dropout", ["pad"], "drop", ratio=0.2), _node("Softmax", ["drop"], "soft"),
             _node("Clip", ["soft"], "clip", min=0.0, max=6.0)]
    r = _check(tmp_path, _model(nodes, (1, 2, 3, 3), {"scales": np.array([1, 1, 2, 2], np.float32)}, opset=9),
               params=0)
    assert r["soft"].node.op.dim == 1 and r["clip"].kind == "relu6"  # type: ignore[attr-defined]


def test_unknown_ops_are_opaque(tmp_path: Path) -> None:
    nodes = [_node("Erf", ["x"], "erf"),
             h.make_node("Split", ["erf"], ["s0", "s1"], name="split", axis=1),
             _node("Add", ["s0", "s1"], "sum")]
    r = _check(tmp_path, _model(nodes, (1, 4, 3, 3), {}, opset=13), params=0,
               layers={"s0": "split", "s1": "split.out1"})
    assert r["erf"].kind == "opaque" and r["split"].shape.dims == (2, 3, 3) and r["split.out1"].shape.dims == (2, 3, 3)
    assert r.totals.not_counted == ("erf", "split", "split.out1")
    with pytest.raises(ShapeError, match="was read for the input 4x3x3, not 4x6x6"):
        analyze(r.graph, input="4x6x6")  # an opaque shape is not guessed at another size


def test_batch_notes_and_input(tmp_path: Path) -> None:
    model = _model([_node("Relu", ["x"], "y")], ("N", 3, "H", "W"), {})
    path = tmp_path / "sym.onnx"
    onnx.save(model, str(path))
    with pytest.raises(SourceError, match=r"its size is symbolic \(H, W\); give the per-sample input size"):
        analyze(path)
    r = analyze(path, input="3x32x30")
    assert r["y"].shape.dims == (3, 32, 30)
    assert any("batch axis of input 'x' is symbolic ('N')" in w for _, w in r.warnings)
    fixed = _model([_node("Relu", ["x"], "y")], (10, 3, 4, 4), {})
    onnx.save(fixed, str(path))
    assert any("fixed batch of 10" in w for _, w in analyze(path).warnings)
    with pytest.raises(SourceError, match="has 3 axes per sample, but --input 3x32 has 2"):
        analyze(path, input="3x32")


def test_from_model_leaves_the_model_alone() -> None:
    from netarith.importers.onnx import from_model

    model = _model([_node("Relu", ["x"], "y")], ("N", 3, 4, 4), {})
    before = model.SerializeToString()
    assert from_model(model, name="m")["y"].op.kind == "relu"
    assert model.SerializeToString() == before


def test_names_are_sanitised(tmp_path: Path) -> None:
    nodes = [h.make_node("Relu", ["input:0"], ["y"], name="my relu #1"), h.make_node("Relu", ["y"], ["z"])]
    r = _check(tmp_path, _model(nodes, (1, 2, 3), {}, name="input:0"), params=0, layers={"y": "my_relu__1"})
    assert [layer.name for layer in r] == ["input_0", "my_relu__1", "z"]


# -- no weights are read -------------------------------------------------------------------------


def test_a_trillion_parameter_initializer_is_never_allocated(tmp_path: Path) -> None:
    w = T(name="W", data_type=T.FLOAT, dims=[1_000_000, 1_000_000])  # declared, no data
    w.data_location = T.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "missing-weights.bin"
    graph = h.make_graph([_node("MatMul", ["x", "W"], "y")], "huge",
                         [h.make_tensor_value_info("x", T.FLOAT, ["N", 1_000_000])],
                         [h.make_tensor_value_info("y", T.FLOAT, None)], [w])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    path = tmp_path / "huge.onnx"
    onnx.save(model, str(path))
    tracemalloc.start()
    try:
        r = analyze(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.totals.params == 10**12 and r.totals.macs == 10**12
    assert peak < 50 * 2**20, peak


def test_external_data_is_never_opened(tmp_path: Path) -> None:
    w, b = _array(64, 32), _array(64)
    model = _model([_node("Gemm", ["x", "W", "B"], "y", transB=1)], (1, 32), {"W": w, "B": b})
    inline = tmp_path / "inline.onnx"
    onnx.save(model, str(inline))
    external = tmp_path / "external.onnx"
    onnx.save_model(model, str(external), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    (tmp_path / "weights.bin").unlink()  # reading it would now fail
    a, b2 = analyze(inline), analyze(external)
    assert a.totals == b2.totals and a.totals.params == w.size + b.size


def test_large_inline_weights_are_skipped(tmp_path: Path) -> None:
    from netarith.importers._onnxwire import strip

    big = _array(1000, 1000)  # 4 MB inline
    model = _model([_node("MatMul", ["x", "W"], "y")], (1, 1000), {"W": big})
    path = tmp_path / "big.onnx"
    onnx.save(model, str(path))
    data, stripped = strip(path, onnx)
    assert stripped == 1 and len(data) < 2000 < path.stat().st_size // 1000
    parsed = onnx.ModelProto()
    parsed.ParseFromString(data)
    assert list(parsed.graph.initializer[0].dims) == [1000, 1000] and not parsed.graph.initializer[0].raw_data
    assert parsed.graph.node == model.graph.node
    assert analyze(path).totals.params == big.size


# -- models exported by PyTorch ------------------------------------------------------------------


def _export(torch: ModuleType, module: Any, shape: tuple[int, ...], path: Path, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, *shape),), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "N"}}, **kwargs)


RESNET_BLOCK = """
model resnet-block
input 64x56x56
conv1: conv 128 k3 s2 p1 nobias
bn1: bn
relu1: relu
conv2: conv 128 k3 p1 nobias
bn2: bn
down: conv 128 k1 s2 nobias <- input
down_bn: bn
sum: add bn2 down_bn
relu2: relu
"""

SMALL_ALEXNET = """
model small-alexnet
input 3x127x127
conv1: conv 24 k11 s4 p2
bn1: bn
relu
pool1: maxpool k3 s2
conv2: conv 64 k5 p2
bn2: bn
relu
pool2: maxpool k3 s2
conv3: conv 96 k3 p1
relu
conv4: conv 64 k3 p1
relu
conv5: conv 64 k3 p1
relu
pool5: maxpool k3 s2
gap: adaptiveavgpool 3
flatten
dropout 0.5
fc6: linear 512
relu
dropout 0.5
fc7: linear 512
relu
fc8: linear 100
"""


@pytest.mark.torch
@pytest.mark.parametrize("text", [RESNET_BLOCK, SMALL_ALEXNET], ids=["resnet-block", "small-alexnet"])
@pytest.mark.parametrize("mode", ["EVAL", "PRESERVE"])
def test_exported_by_torch_matches_notation(torch: ModuleType, tmp_path: Path, text: str, mode: str) -> None:
    notation = analyze(text)
    module = to_torch(text)
    path = tmp_path / "m.onnx"
    # batch norm kept: no constant folding in EVAL mode (which would fold it into the convolutions)
    _export(torch, module, notation.input.dims, path, training=getattr(torch.onnx.TrainingMode, mode),
            do_constant_folding=mode != "EVAL")
    r = analyze(path)
    if mode == "PRESERVE":  # the exporter stored equal tensors once: BN weights, variances, biases, means
        tensors = len(module.state_dict()) - sum(1 for k in module.state_dict() if "num_batches" in k)
        assert len(onnx.load(str(path)).graph.initializer) < tensors
    assert r.totals.params == notation.totals.params == sum(p.numel() for p in module.parameters())
    assert r.totals.buffers == notation.totals.buffers == sum(b.numel() for b in module.buffers())
    assert r.totals.macs == notation.totals.macs
    weighted = [(x.kind, x.shape, x.params, x.macs) for x in r if x.weighted]
    assert weighted == [(x.kind, x.shape, x.params, x.macs) for x in notation if x.weighted]
    assert not r.totals.not_counted


class _Many:
    """A module with many kinds of layer, functional forms included."""

    @staticmethod
    def build(torch: ModuleType) -> Any:
        nn = torch.nn

        class Many(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Sequential(nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(3, 16, 3, stride=2),
                                          nn.BatchNorm2d(16), nn.ReLU6())
                self.pool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
                self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
                self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1), nn.SiLU(),
                                        nn.Conv2d(4, 16, 1), nn.Hardsigmoid())
                self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
                self.lrn = nn.LocalResponseNorm(3)
                self.refl = nn.ReflectionPad2d(1)
                self.avg = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)
                self.prelu = nn.PReLU(24)
                self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(24 * 10 * 9, 10),
                                          nn.LeakyReLU(0.1), nn.Linear(10, 10, bias=False))
                self.scale = nn.Parameter(torch.ones(1, 10))

            def forward(self, x: Any) -> Any:
                x = self.pool(self.stem(x))
                y = self.dw(x)
                y = y * self.se(y)
                z = torch.nn.functional.hardswish(self.up(y))
                u = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
                x = torch.cat([z, u], dim=1)
                x = self.prelu(self.avg(self.refl(self.lrn(x))))
                x = x.view(x.size(0), -1)
                return torch.softmax(self.head(x) * self.scale, dim=-1)

        return Many()


@pytest.mark.torch
def test_exported_module_counts(torch: ModuleType, tmp_path: Path) -> None:
    module = _Many.build(torch)
    path = tmp_path / "many.onnx"
    _export(torch, module, (3, 33, 31), path, do_constant_folding=False)
    r = analyze(path)
    assert r.totals.params == sum(p.numel() for p in module.parameters())
    assert r.totals.buffers == sum(b.numel() for b in module.buffers())
    assert parse(to_notation(r.graph)) == r.graph  # an imported graph prints as notation
    model = onnx.load(str(path))
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    by_tensor = {n.output[0]: n.name for n in model.graph.node if n.name in r.graph}
    ran = _run_all(model, (1, 3, 33, 31), list(by_tensor))
    checked = 0
    for tensor, layer in by_tensor.items():
        assert ran[tensor][1:] == r[layer].shape.dims, layer
        checked += 1
        dims = inferred[tensor].type.tensor_type.shape.dim if tensor in inferred else []
        if dims and all(d.HasField("dim_value") for d in dims[1:]) and "MaxPool" not in layer:
            assert tuple(d.dim_value for d in dims[1:]) == r[layer].shape.dims, layer
    assert checked >= 25
    assert not r.totals.not_counted, r.totals.not_counted


def _run_all(model: Any, x: tuple[int, ...], tensors: list[str]) -> dict[str, tuple[int, ...]]:
    """Run the model, showing these (float) tensors too."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    known = {o.name for o in exposed.graph.output}
    exposed.graph.output.extend(h.make_tensor_value_info(o, T.FLOAT, None) for o in tensors if o not in known)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(exposed.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feed = {"x": RNG.standard_normal(x).astype(np.float32)}
    return {n: tuple(np.asarray(v).shape) for n, v in zip(names, session.run(None, feed))}


# -- malformed files -----------------------------------------------------------------------------


def _valid() -> Any:
    return _model([_node("Conv", ["x", "W"], "c"), _node("Relu", ["c"], "r")], (1, 3, 8, 8), {"W": _array(4, 3, 3, 3)})


def _edit(change: Callable[[Any], None]) -> bytes:
    m = _valid()
    change(m)
    return bytes(m.SerializeToString())


def _truncated() -> bytes:
    data = _valid().SerializeToString()
    return bytes(data[: len(data) // 2])


def _cycle(m: Any) -> None:
    m.graph.node[0].input[0] = "r"


def _dangling(m: Any) -> None:
    m.graph.node[1].input[0] = "nothing"


def _twice(m: Any) -> None:
    m.graph.node[1].output[0] = "c"


def _wrong_dims(m: Any) -> None:
    m.graph.initializer[0].CopyFrom(nh.from_array(_array(4, 2, 3, 3), "W"))


def _bad_pads(m: Any) -> None:
    m.graph.node[0].attribute.append(h.make_attribute("pads", [1, 1]))


def _no_input(m: Any) -> None:
    del m.graph.input[:]


def _negative_dims(m: Any) -> None:
    m.graph.initializer[0].dims[0] = -4


BAD: list[tuple[str, Callable[[], bytes], type[NetarithError], str]] = [
    ("empty", lambda: b"", SourceError, "the file is empty, not an ONNX model"),
    ("text", lambda: b"input 3x224x224\nconv 8 k3\n", SourceError, "not a valid ONNX model"),
    ("random bytes", lambda: bytes(range(256)) * 4, SourceError, "not a valid ONNX model"),
    ("truncated", _truncated, SourceError, "is the file truncated?"),
    ("cycle", lambda: _edit(_cycle), GraphError, "the nodes form a cycle: c -> r -> c"),
    ("dangling input", lambda: _edit(_dangling), GraphError,
     "node 1 'r' (Relu): input 'nothing' is not a graph input, an initializer or the output of any node"),
    ("produced twice", lambda: _edit(_twice), SourceError, "node 1 'r' (Relu): tensor 'c' is produced twice"),
    ("wrong weight dims", lambda: _edit(_wrong_dims), SourceError,
     "node 0 'c' (Conv): weight dims [4, 2, 3, 3] expect 2 x group 1 = 2 input channels; the input has 3"),
    ("pads length", lambda: _edit(_bad_pads), SourceError, "'pads' has 2 values for 2 spatial axes"),
    ("no input", lambda: _edit(_no_input), SourceError, "the model has no input"),
    ("negative dims", lambda: _edit(_negative_dims), SourceError, "tensor 'W' has negative dims [-4, 3, 3, 3]"),
]


@pytest.mark.parametrize(("label", "make", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed(tmp_path: Path, label: str, make: Callable[[], bytes], error: type[NetarithError],
                   message: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(make())
    with pytest.raises(error) as info:
        analyze(path)
    assert message in str(info.value), str(info.value)
    assert str(path) in str(info.value)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.onnx"
    onnx.save(_valid(), str(good))
    assert main(["analyze", str(good)]) == 0
    assert "good: input 3x8x8, convention onnx" in capsys.readouterr().out
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(_truncated())
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "is the file truncated?" in err and "Traceback" not in err


def test_missing_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_valid(), str(path))
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'netarith\[onnx\]'"):
        analyze(path)


def test_loaders_registered() -> None:
    assert {".onnx", ".prototxt", ".cfg"} <= set(LOADERS)


TORCHVISION_EXPORTS = ["alexnet", "resnet18", "mobilenet_v2", "squeezenet1_1", "googlenet", "efficientnet_b0",
                       "convnext_tiny", "shufflenet_v2_x0_5"]


@pytest.mark.torch
@pytest.mark.parametrize("name", TORCHVISION_EXPORTS)
def test_torchvision_architectures_exported_by_torch(torch: ModuleType, tmp_path: Path, name: str) -> None:
    """A torchvision network (the zoo's, built as torchvision builds it) exported by torch with its
    batch norm kept reads back with torchvision's published num_params and _ops."""
    import csv

    from netarith import zoo

    with (Path(__file__).parent / "data" / "torchvision_meta.csv").open(newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["model"] == name)
    graph = zoo.build(name)
    module = to_torch(graph)
    path = tmp_path / f"{name}.onnx"
    _export(torch, module, analyze(graph).input.dims, path, training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=False)
    report = analyze(path)
    assert not report.totals.not_counted, report.totals.not_counted
    assert report.totals.params == int(row["num_params"])
    assert round(report.totals.macs / 1e9, 3) == float(row["gflops"])
