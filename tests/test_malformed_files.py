"""Malformed model files, for every importer (issue 9): a located error, bounded memory, and
through the command line exit code 2 with one message, never a traceback.

The importers' own tables (tests/test_importer_{onnx,caffe,cudaconvnet}.py, ``BAD``) hold one
row per kind of damage with its exact message; this file adds the damage those tables lacked
(truncation at every point, bit flips, absurd declared sizes, a 40000x40000 constant computed
from a 300-byte file, missing sections, huge and deep files), and runs every row of all four
tables through ``netarith analyze`` in a child process whose memory is limited.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netarith import GraphError, NetarithError, ShapeError, SourceError
from netarith.importers.caffe import from_prototxt
from netarith.importers.cudaconvnet import from_cfg

from . import fuzzkit
from . import test_importer_caffe as caffe_tests
from . import test_importer_cudaconvnet as cfg_tests

if os.environ.get("CI"):
    import numpy as np
    import onnx
else:
    onnx = pytest.importorskip("onnx")
    np = pytest.importorskip("numpy")

from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

from . import test_importer_onnx as onnx_tests

# -- ONNX ------------------------------------------------------------------------------------------


def _model(nodes: list[Any], x: list[Any], inits: list[Any], outputs: list[str] | None = None) -> bytes:
    graph = h.make_graph(nodes, "bad", [h.make_tensor_value_info("x", T.FLOAT, x)],
                         [h.make_tensor_value_info(o, T.FLOAT, None) for o in (outputs or [nodes[-1].output[0]])],
                         inits)
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    return bytes(m.SerializeToString())


def _declared(name: str, dims: list[int]) -> Any:
    """A float initializer with dims and no data at all (neither inline nor external)."""
    return T(name=name, data_type=T.FLOAT, dims=dims)


def _trillion_inline() -> bytes:
    return _model([h.make_node("MatMul", ["x", "W"], ["y"], name="y")], [1, 10**6], [_declared("W", [10**6, 10**6])])


def _constant_of_shape() -> bytes:
    shape = nh.from_array(np.array([40_000, 40_000], np.int64), "shp")
    nodes = [h.make_node("ConstantOfShape", ["shp"], ["big"], value=nh.from_array(np.array([1.0], np.float32))),
             h.make_node("Add", ["x", "big"], ["y"], name="y")]
    return _model(nodes, [1, 3, 8, 8], [shape])


def _conv_without_weight() -> bytes:
    return _model([h.make_node("Conv", ["x"], ["y"], name="y")], [1, 3, 8, 8], [])


def _weight_rank_2() -> bytes:
    return _model([h.make_node("Conv", ["x", "W"], ["y"], name="y")], [1, 3, 8, 8],
                  [nh.from_array(np.ones((4, 27), np.float32), "W")])


def _data_shorter_than_dims() -> bytes:
    w = nh.from_array(np.ones((4, 3, 3, 3), np.float32), "W")
    w.raw_data = w.raw_data[:10]  # 10 bytes for 108 floats
    return _model([h.make_node("Conv", ["x", "W"], ["y"], name="y")], [1, 3, 8, 8], [w])


def _self_loop() -> bytes:
    return _model([h.make_node("Relu", ["y"], ["y"], name="y")], [1, 3, 8, 8], [])


def _kernel_larger_than_input() -> bytes:
    return _model([h.make_node("Conv", ["x", "W"], ["y"], name="y")], [1, 3, 8, 8],
                  [_declared("W", [4, 3, 9, 9])])


def _zero_input() -> bytes:
    return _model([h.make_node("Relu", ["x"], ["y"], name="y")], [1, 3, 0, 8], [])


def _output_not_produced() -> bytes:
    return _model([h.make_node("Relu", ["x"], ["y"], name="y")], [1, 3, 8, 8], [], outputs=["y", "nowhere"])


def _attribute_of_another_type() -> bytes:
    return _model([h.make_node("MaxPool", ["x"], ["y"], name="y", kernel_shape=[2, 2], ceil_mode="yes")],
                  [1, 3, 8, 8], [])


def _attribute_without_value() -> bytes:
    node = h.make_node("MaxPool", ["x"], ["y"], name="y", kernel_shape=[2, 2], ceil_mode=1)
    next(a for a in node.attribute if a.name == "ceil_mode").type = 0  # UNDEFINED: a flipped byte did this
    return _model([node], [1, 3, 8, 8], [])


def _required_attribute_missing() -> bytes:
    return _model([h.make_node("LRN", ["x"], ["y"], name="y")], [1, 3, 8, 8], [])


ONNX_BAD: list[tuple[str, Callable[[], bytes], type[NetarithError], str]] = [
    ("required attribute missing", _required_attribute_missing, SourceError,
     "node 0 'y' (LRN): the attribute 'size', which LRN needs, is missing"),
    ("attribute of another type", _attribute_of_another_type, SourceError,
     "node 0 'y' (MaxPool): its attributes (ceil_mode, kernel_shape) do not have the types or lengths MaxPool takes"),
    ("attribute without a value", _attribute_without_value, SourceError,
     "node 0 'y' (MaxPool): attribute 'ceil_mode' cannot be read (no value of type 0)"),
    ("conv without weight", _conv_without_weight, SourceError, "node 0 'y' (Conv): the weight (input 1) is missing"),
    ("weight of rank 2", _weight_rank_2, NetarithError, "node 0 'y' (Conv)"),
    ("self loop", _self_loop, GraphError, "the nodes form a cycle"),
    ("kernel larger than the input", _kernel_larger_than_input, ShapeError, "kernel 9 is larger than the padded input"),
    ("a zero-sized input", _zero_input, SourceError, "its size is symbolic (axis 2)"),
]


@pytest.mark.parametrize(("label", "make", "error", "message"), ONNX_BAD, ids=[b[0] for b in ONNX_BAD])
def test_onnx_malformed(tmp_path: Path, label: str, make: Callable[[], bytes], error: type[NetarithError],
                        message: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(make())
    with pytest.raises(error) as info:
        onnx_load(path)
    assert message in str(info.value) and str(path) in str(info.value), str(info.value)


def onnx_load(path: Path) -> object:
    from netarith.importers.onnx import load

    return load(path)


def test_onnx_declared_but_absent_data_is_counted_not_read(tmp_path: Path) -> None:
    """10^12 weights declared inline with no data (and a weight whose data is shorter than its
    dims): counted from the dims, never read, never allocated."""
    got = _in_child(tmp_path, {"trillion.onnx": _trillion_inline(), "short.onnx": _data_shorter_than_dims()},
                    "from netarith import analyze\n"
                    "OUT = {'trillion': analyze(folder / 'trillion.onnx').totals.params,"
                    " 'short': analyze(folder / 'short.onnx').totals.params}\n")
    assert got["trillion"] == 10**12 and got["short"] == 4 * 3 * 3 * 3
    assert got["peak_mb"] < 300


def test_onnx_huge_computed_constant_is_not_computed(tmp_path: Path) -> None:
    """ConstantOfShape(40000x40000) from a 300-byte file: the importer used to compute it with
    onnx's reference ops (6 GB, 15 s); its size is known from ONNX shape inference, so it is left
    uncomputed and the shape error that follows is located."""
    data = _constant_of_shape()
    assert len(data) < 400
    got = _in_child(tmp_path, {"cos.onnx": data},
                    "import time\nfrom netarith import NetarithError, analyze\nstart = time.perf_counter()\n"
                    "try:\n    analyze(folder / 'cos.onnx')\n    message = ''\n"
                    "except NetarithError as exc:\n    message = str(exc)\n"
                    "OUT = {'message': message, 'seconds': time.perf_counter() - start}\n", memory_mb=1536)
    assert "node 1 'y' (Add): y: cannot add 3x8x8 and 1x40000x40000" in got["message"]
    assert got["peak_mb"] < 300 and got["seconds"] < 10


def test_onnx_truncated_at_every_point(tmp_path: Path) -> None:
    """Every prefix of a valid model ends in a report or an error naming the file."""
    for seed in fuzzkit.onnx_seeds():
        for cut in range(0, len(seed), max(1, len(seed) // 60)):
            fuzzkit.check_onnx(seed[:cut], tmp_path)


def test_onnx_bit_flips(tmp_path: Path) -> None:
    seed = next(iter(fuzzkit.onnx_seeds()))
    for at in range(0, len(seed), 3):
        damaged = bytearray(seed)
        damaged[at] ^= 0x80 if at % 2 else 0x04
        fuzzkit.check_onnx(bytes(damaged), tmp_path)


# -- prototxt --------------------------------------------------------------------------------------

_DATA = 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n'


def _layer(body: str) -> str:
    return _DATA + f"layer {{ {body} }}\n"


PROTOTXT_BAD: list[tuple[str, str, type[NetarithError], str]] = [
    ("deep nesting", "a { " * 10_000 + "} " * 10_000, SourceError, "t.prototxt:1:"),
    ("a zero input size", _DATA.replace("dim: 8 dim: 8", "dim: 0 dim: 8"), NetarithError, "t.prototxt:1:"),
    ("a negative input size", _DATA.replace("dim: 8 dim: 8", "dim: -8 dim: 8"), NetarithError, "t.prototxt:1:"),
    ("unknown layer type", _layer('name: "x" type: "Frobnicate" bottom: "data" top: "x"'), SourceError,
     "t.prototxt:2:"),
    ("a huge kernel", _layer('name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
                             "{ num_output: 4 kernel_size: 99999999999999999999 }"), NetarithError, "t.prototxt:2:"),
    ("a float in an integer field", _layer('name: "c" type: "Convolution" bottom: "data" top: "c" '
                                           "convolution_param { num_output: 1e999 kernel_size: 3 }"),
     SourceError, "'num_output' must be an integer"),
    ("an infinite ratio", _layer('name: "d" type: "Dropout" bottom: "data" top: "d" dropout_param '
                                 "{ dropout_ratio: 1e999 }"), NetarithError, "t.prototxt:2:"),
    ("a layer without type", _layer('name: "x" bottom: "data" top: "x"'), SourceError, "t.prototxt:2:"),
    ("truncated in a string", _DATA + 'layer { name: "c', SourceError, "t.prototxt:2:"),
    ("a bottom that is a later top", 'layer { name: "r" type: "ReLU" bottom: "d" top: "r" }\n' + _DATA.replace(
        '"data"', '"d"'), SourceError, "bottom 'd' is not the top of any earlier layer"),
]


@pytest.mark.parametrize(("label", "text", "error", "message"), PROTOTXT_BAD, ids=[b[0] for b in PROTOTXT_BAD])
def test_prototxt_malformed(label: str, text: str, error: type[NetarithError], message: str) -> None:
    with pytest.raises(error) as info:
        from_prototxt(text, source="t.prototxt")
    assert message in str(info.value), str(info.value)
    fuzzkit.check_prototxt(text)


def test_prototxt_truncated_at_every_line() -> None:
    text = (fuzzkit.DATA / "model-files" / "BVLC_caffe" / "bvlc_googlenet__train_val.prototxt").read_text()
    lines = text.splitlines(keepends=True)
    for n in range(0, len(lines), 7):
        fuzzkit.check_prototxt("".join(lines[:n]) + lines[n][: len(lines[n]) // 2] if n < len(lines) else text)


# -- cuda-convnet cfg --------------------------------------------------------------------------------

_HEAD = "[data]\ntype=data\ndataIdx=0\n"
_CONV = "[conv1]\ntype=conv\ninputs=data\nchannels=3\nfilters=8\nfilterSize=3\n"

CFG_BAD: list[tuple[str, str, type[NetarithError], str]] = [
    ("only a data layer's header", "[data]\n", SourceError, "no section has a 'type='"),
    ("a section without type", _HEAD + "[conv1]\ninputs=data\n", SourceError, "t.cfg:4:1: [conv1] has no 'type='"),
    ("no data layer", "[conv1]\ntype=conv\nchannels=3\nfilters=8\nfilterSize=3\n", SourceError, "t.cfg:1:1"),
    ("a layer that reads itself", _HEAD + "[r]\ntype=neuron\nneuron=relu\ninputs=r\n", GraphError,
     "the layers form a cycle: r -> r"),
    ("a missing input section", _HEAD + _CONV.replace("inputs=data", "inputs=data,pool9"), SourceError,
     "reads 'pool9', which is not a layer"),
    ("keys before any section", "type=data\n" + _HEAD, SourceError, "t.cfg:1:1: the file must start with"),
    ("a byte-order mark", "\ufeff" + _HEAD + _CONV, NetarithError, "t.cfg:"),
    ("only comments", "# nothing\n; more\n", SourceError, "t.cfg: no layers"),
    ("an empty neuron", _HEAD + _CONV + "neuron=\n", SourceError, "t.cfg:10:1: [conv1] cannot read neuron=''"),
    ("fc without outputs", _HEAD + "[fc]\ntype=fc\ninputs=data\n", SourceError, "[fc] needs 'outputs='"),
    ("a softmax without inputs", _HEAD + "[prob]\ntype=softmax\n", SourceError,
     "prob: softmax takes 1 input(s), got 0"),
]


@pytest.mark.parametrize(("label", "text", "error", "message"), CFG_BAD, ids=[b[0] for b in CFG_BAD])
def test_cfg_malformed(label: str, text: str, error: type[NetarithError], message: str) -> None:
    with pytest.raises(error) as info:
        from_cfg(text, source="t.cfg")
    assert message in str(info.value), str(info.value)
    fuzzkit.check_cfg(text)


def test_cfg_missing_sections_of_a_real_file() -> None:
    """Each section of cuda-convnet's 2-GPU AlexNet removed in turn: a report, or an error at the
    layer that reads the missing one."""
    text = (fuzzkit.DATA / "model-files" / "cuda-convnet2" / "layers-imagenet-2gpu-model.cfg").read_text()
    sections = text.split("\n[")
    for n in range(1, len(sections)):
        fuzzkit.check_cfg("\n[".join(sections[:n] + sections[n + 1:]))


def test_cfg_huge_counts_are_exact() -> None:
    g = from_cfg(_HEAD + _CONV.replace("filters=8", f"filters={10**12}"), source="t.cfg", input="3x8x8")
    from netarith.analyze import analyze_graph

    assert analyze_graph(g)["conv1"].params == 10**12 * 3 * 3 * 3 + 10**12


# -- every malformed file through the command line, memory limited ----------------------------------


def _in_child(folder: Path, files: dict[str, bytes], code: str, memory_mb: int = 1024) -> dict[str, Any]:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    done = fuzzkit.limited("import json, pathlib, sys\nfolder = pathlib.Path(sys.argv[1])\n" + code
                           + "from tests.fuzzkit import peak_mb\nprint(json.dumps({**OUT, 'peak_mb': peak_mb()}))",
                           memory_mb=memory_mb, args=(str(folder),), seconds=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _all_malformed() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for _label, make, _, _ in [*onnx_tests.BAD, *ONNX_BAD]:
        files[f"onnx-{len(files):03d}.onnx"] = make()
    files["onnx-cos.onnx"] = _constant_of_shape()
    for _label, text, _, _ in [*caffe_tests.BAD, *PROTOTXT_BAD]:
        files[f"caffe-{len(files):03d}.prototxt"] = text.encode()
    for _label, text, _, _ in [*cfg_tests.BAD, *CFG_BAD]:
        files[f"cfg-{len(files):03d}.cfg"] = text.encode()
    return files


def test_every_malformed_file_through_the_cli(tmp_path: Path) -> None:
    """Every row of the four importers' tables, as a file on disk, through ``netarith analyze``
    in one child process limited to 1.5 GB: exit code 2, one line naming the file, no traceback."""
    files = _all_malformed()
    got = _in_child(tmp_path, files,
                    "import contextlib, io\n"
                    "from netarith.cli import main\n"
                    "OUT = {}\n"
                    "for path in sorted(folder.iterdir()):\n"
                    "    err = io.StringIO()\n"
                    "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
                    "        code = main(['analyze', str(path), '--input', '3x16x16'] if path.suffix == '.cfg'"
                    " else ['analyze', str(path)])\n"
                    "    OUT[path.name] = [code, err.getvalue()]\n", memory_mb=1536)
    assert len(files) >= 70
    for name in files:
        code, err = got[name]
        assert code == 2, (name, code, err)
        assert err.startswith(f"netarith: error: {tmp_path / name}") or err.startswith("netarith: error: "), err
        assert name in err, (name, err)  # the message names the file
        assert "Traceback" not in err, err
    assert got["peak_mb"] < 600
