"""Numbers of the analysis, checked against figures published outside this code."""

from __future__ import annotations

import json

import pytest

from netarith import Shape, ShapeError, analyze
from netarith.report import render

from .conftest import EXAMPLES

ALEXNET = EXAMPLES / "alexnet-paper.net"


def test_conv1_at_227() -> None:
    """cs231n: [55x55x96], 290,400 neurons, 34,944 parameters."""
    r = analyze("3x227x227 | conv1: conv 96 k11 s4")
    c = r["conv1"]
    assert c.shape == Shape((96, 55, 55))
    assert (c.neurons, c.params, c.macs) == (290_400, 34_944, 105_415_200)
    assert c.warnings == ()


def test_conv1_at_224_floor_and_cuda_convnet() -> None:
    r = analyze("3x224x224 | conv1: conv 96 k11 s4")
    assert r["conv1"].shape.dims == (96, 54, 54)
    (warning,) = r["conv1"].warnings
    assert "last 1 row and column of the input never reach" in warning
    assert "227x227" in warning  # the size that would use every pixel
    cuda = analyze("3x224x224 | conv1: conv 96 k11 s4", convention="cuda-convnet")
    assert cuda["conv1"].shape.dims == (96, 55, 55)
    assert "hangs 3 pixels" in cuda["conv1"].warnings[0]


def test_alexnet_paper_example() -> None:
    """The paper's network: 60,965,224 params (BVLC replica), the caption's neurons but conv1."""
    r = analyze(ALEXNET)
    assert r.convention.name == "cuda-convnet"
    assert r.totals.params == 60_965_224
    assert r.totals.neurons == 659_272
    assert r.totals.macs == 724_406_816  # "724.4M MACs" (published-figures.md section 6)
    neurons = [r[n].neurons for n in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")]
    assert neurons == [290_400, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    assert r["input"].neurons == 150_528


def test_alexnet_227_receptive_field() -> None:
    """pool5 of the Caffe-style AlexNet: size 195, jump 32, start 33 (Araujo et al. 2019)."""
    r = analyze(ALEXNET, input="3x227x227", convention="pytorch")
    rf = r.to_dict()["layers"][[x.name for x in r].index("pool5")]["receptive_field"]
    assert rf == {"size": [195, 195], "jump": [32, 32], "start": [33.0, 33.0]}
    assert r.to_dict()["layers"][-1]["receptive_field"] is None  # after flatten


def test_torchvision_alexnet_features_receptive_field() -> None:
    """torchvision AlexNet features: RF 195, S 32, P 66 (conv-arithmetic.md section 5)."""
    text = (
        "3x224x224 | conv 64 k11 s4 p2 | relu | maxpool k3 s2 | conv 192 k5 p2 | relu | maxpool k3 s2"
        " | conv 384 k3 p1 | relu | conv 256 k3 p1 | relu | conv 256 k3 p1 | relu | last: maxpool k3 s2"
    )
    r = analyze(text)
    (axis, _) = r["last"].rf[1:]  # type: ignore[index]
    assert axis is not None
    assert (axis.size, axis.jump, axis.pad) == (195, 32, 66)
    assert r.totals.params == 2_469_696  # torchvision alexnet.features


def test_json_contract() -> None:
    data = json.loads(render(analyze(ALEXNET), "json"))
    assert set(data) == {"model", "convention", "input", "layers", "totals"}
    assert data["model"] == "alexnet-paper" and data["input"] == [3, 224, 224]
    layer_keys = {"name", "kind", "inputs", "output_shape", "neurons", "params", "buffers", "macs",
                  "flops", "receptive_field", "warnings", "connections"}
    for layer in data["layers"]:
        assert set(layer) == layer_keys
        for key in ("neurons", "params", "buffers", "macs", "flops"):
            assert type(layer[key]) is int
    assert set(data["totals"]) == {"params", "trainable_params", "buffers", "neurons", "activations",
                                   "macs", "flops", "activation_bytes", "param_bytes", "connections"}
    assert all(type(v) is int for v in data["totals"].values())
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]


def test_dtype_memory() -> None:
    r32 = analyze(ALEXNET)
    r16 = analyze(ALEXNET, dtype="float16")
    assert r32.totals.activation_bytes == 4 * r32.totals.activations
    assert r16.totals.param_bytes == 2 * r16.totals.params


@pytest.mark.parametrize(
    ("text", "params", "buffers"),
    [
        ("64x8x8 | conv 128 k3", 73_856, 0),
        ("64x8x8 | conv 128 k3 g4", 18_560, 0),
        ("64x8x8 | conv 64 k3 g64 nobias", 576, 0),
        ("64x8x8 | convT 32 k4 g2", 16_416, 0),
        ("64x8x8 | bn", 128, 129),
        ("64x8x8 | bn noaffine nostats", 0, 0),
        ("64x8x8 | gn 8", 128, 0),
        ("64x8x8 | ln 3", 2 * 64 * 64, 0),
        ("64x8x8 | ln channels", 128, 0),
        ("64x8x8 | instancenorm", 0, 0),
        ("64x8x8 | prelu", 1, 0),
        ("64x8x8 | prelu channels", 64, 0),
        ("9216 | linear 4096", 37_752_832, 0),
        ("64x8x8 | lrn 5", 0, 0),
        ("64x8x8 | scale", 64, 0),
        ("64x8x8 | scale bias", 128, 0),
    ],
)
def test_parameter_counts(text: str, params: int, buffers: int) -> None:
    """The counts conv-arithmetic.md section 3 checked in torch 2.13."""
    r = analyze(text)
    assert (r.totals.params, r.totals.buffers) == (params, buffers)


def test_convtranspose_macs_are_input_side() -> None:
    """16->8, k4, s2 on 10x10: 204,800 true multiplies (thop's 819,200 is s^2 too high)."""
    r = analyze("16x10x10 | convT 8 k4 s2")
    assert r.totals.macs == 204_800


def test_linear_on_last_axis() -> None:
    r = analyze("8x16 | linear 32")
    assert r["linear_1"].shape.dims == (8, 32)
    assert r.totals.macs == 8 * 16 * 32
    warned = analyze("64x7x7 | linear 10")
    assert "flatten first (in_features 3,136)" in warned["linear_1"].warnings[0]


def test_squeeze_excite_broadcast() -> None:
    text = """
    input 32x14x14
    x: conv 32 k3 p1
    s: globalavgpool
    fc1: conv 8 k1
    relu
    fc2: conv 32 k1
    gate: sigmoid
    y: mul x gate
    """
    r = analyze(text)
    assert r["y"].shape.dims == (32, 14, 14)
    # every output of the mul sees the whole of x's input through the gate
    rf = r["y"].rf
    assert rf is not None and rf[1] is not None and rf[1].size >= 16


def test_tensorflow_same_strided() -> None:
    r = analyze("3x224x224 | conv 64 k3 s2 same", convention="tensorflow")
    assert r["conv_1"].shape.dims == (64, 112, 112)
    r2 = analyze("3x225x225 | conv 64 k7 s2 same", convention="tensorflow")
    assert r2["conv_1"].shape.dims == (64, 113, 113)


def test_caffe_pooling_rounds_up() -> None:
    r = analyze("1x6x6 | maxpool k1 s4", convention="caffe")
    assert r["maxpool_1"].shape.dims == (1, 3, 3)
    assert analyze("1x6x6 | maxpool k1 s4 ceil")["maxpool_1"].shape.dims == (1, 2, 2)


def test_adaptive_and_global() -> None:
    r = analyze("256x13x13 | adaptiveavgpool 6 | flatten | linear 10")
    assert r["adaptiveavgpool_1"].shape.dims == (256, 6, 6)
    assert r["linear_1"].params == 9216 * 10 + 10
    g = analyze("64x7x9 | globalavgpool")
    assert g["globalavgpool_1"].shape.dims == (64, 1, 1)


def test_unaligned_merge_warns() -> None:
    text = "input 4x16x16\na: conv 4 k3 p1\nb: conv 4 k3 p0+2 <- input\nadd a b"
    r = analyze(text)
    assert any("not aligned" in w for w in r["add_1"].warnings)


def test_training_only_head() -> None:
    """An auxiliary head holds parameters; its MACs count only in training (torchvision's _ops)."""
    text = """
    input 8x8x8
    trunk: conv 8 k3 p1
    head: linear 10 <- trunk
    aux: conv 4 k1 @train <- trunk
    aux_fc: linear 3
    """
    from netarith import parse, to_notation

    g = parse(text)
    assert g["aux"].train_only and not g["aux_fc"].train_only
    assert parse(to_notation(g)) == g
    ev = analyze(g)
    tr = analyze(g, mode="train")
    assert ev.totals.params == tr.totals.params
    assert ev["aux"].macs == 0 and ev["aux_fc"].macs == 0  # fed only by the head: train-only too
    assert tr["aux"].macs == 4 * 8 * 8 * 8 and tr["aux_fc"].macs == (4 * 8) * 8 * 3  # rows x in x out
    assert "runs only in training" in ev["aux"].warnings[-1]
    assert ev.totals.macs == tr.totals.macs - tr["aux"].macs - tr["aux_fc"].macs


def test_matmul() -> None:
    text = "input 8x16x32\nq: linear 32\nk: linear 32 <- input\nkt: permute 0 1 3 2\ns: matmul q kt"
    r = analyze(text)
    assert r["s"].shape.dims == (8, 16, 16)
    assert r["s"].macs == 8 * 16 * 16 * 32


def test_opaque_is_not_counted_not_zero() -> None:
    r = analyze("input 3x8x8\nx: opaque op=my_op shape=4x8x8 params=12\nflatten")
    d = r.to_dict()
    assert d["layers"][1]["not_counted"] == ["macs", "connections"]
    assert d["totals"]["not_counted"] == ["x"]
    from netarith.report import render

    table = render(r)
    assert "not counted" in table and "lower bounds" in table


def test_training_only_head_that_does_not_fit_is_left_out_in_eval() -> None:
    """torchvision's inception_v3 runs at 224 in eval mode: its aux head (5x5 conv on a 3x3 map
    after pooling) is not run. netarith leaves it out, says so, and never counts it as zero."""
    text = """
    input 8x12x12
    trunk: conv 8 k3 p1
    head: globalavgpool
    aux_pool: avgpool 5 s3 @train <- trunk
    aux_conv: conv 4 k5
    aux_fc: linear 3
    """
    with pytest.raises(ShapeError, match="aux_conv"):
        analyze(text, mode="train")
    r = analyze(text)
    assert [name for name, _ in r.skipped] == ["aux_conv", "aux_fc"]
    assert "aux_conv" not in [x.name for x in r] and "aux_pool" in [x.name for x in r]
    d = r.to_dict()
    assert d["totals"]["not_counted"] == ["aux_conv", "aux_fc"]
    assert d["skipped"][1]["reason"] == "fed by aux_conv, which is left out"
    assert any("left out: it runs only in training" in w for _, w in r.warnings)
