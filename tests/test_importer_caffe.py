"""The Caffe importer: the real BVLC files, the text-format reader, and located errors.

Oracles: the figures of the AlexNet paper and of the BVLC files themselves
(reference/published-figures.md section 6: conv1 55x55x96, 60,965,224 parameters;
issue 6: bvlc_googlenet 6,998,552 parameters, 1.583 GMACs); PyTorch running the
imported network (every layer's shape, the parameter count); and the deploy and
train_val files of one model agreeing with each other.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from netarith import NetarithError, ShapeError, SourceError, SpecError, analyze, load, to_torch
from netarith.cli import main
from netarith.importers.caffe import from_prototxt
from netarith.importers.prototext import parse

from .conftest import DATA

BVLC = DATA / "model-files" / "BVLC_caffe"
ALEXNETS = ["bvlc_alexnet__deploy", "bvlc_alexnet__train_val",
            "bvlc_reference_caffenet__deploy", "bvlc_reference_caffenet__train_val"]


def _file(stem: str) -> Path:
    return BVLC / f"{stem}.prototxt"


@pytest.mark.parametrize("stem", ALEXNETS)
def test_alexnet_files(stem: str) -> None:
    r = analyze(_file(stem))
    assert r.convention.name == "caffe"
    assert r["conv1"].shape.dims == (96, 55, 55)
    assert r.totals.params == 60_965_224
    assert [layer.shape.dims for layer in r if layer.kind == "conv"] == [
        (96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13)]
    # the paper's neuron counts from conv2 on (Figure 2 caption): 186,624-64,896-64,896-43,264-4096-4096-1000
    weighted = [layer.neurons for layer in r if layer.weighted]
    assert weighted[1:] == [186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]


def test_googlenet_deploy() -> None:
    r = analyze(_file("bvlc_googlenet__deploy"))
    assert r.totals.params == 6_998_552
    assert round(r.totals.macs / 1e9, 3) == 1.583
    assert r["prob"].shape.dims == (1000,)
    assert not r.totals.not_counted


def test_googlenet_train_val_matches_deploy() -> None:
    deploy = analyze(_file("bvlc_googlenet__deploy"))
    train = analyze(_file("bvlc_googlenet__train_val"))
    by_name = {layer.name: layer for layer in train}
    for layer in deploy:
        if layer.name == "prob":
            continue
        twin = by_name[layer.name]
        assert (twin.shape, twin.params, twin.macs) == (layer.shape, layer.params, layer.macs), layer.name
    extra = [layer for layer in train if layer.name not in {d.name for d in deploy}]
    assert {layer.name.split("/")[0] for layer in extra} == {"loss1", "loss2"}
    assert all(layer.node.train_only for layer in extra)
    assert train.totals.macs == deploy.totals.macs  # the auxiliary heads do not run in eval mode
    assert train.totals.params == deploy.totals.params + sum(layer.params for layer in extra)
    notes = " ".join(w for _, w in train.warnings)
    assert "auxiliary losses loss1/loss (weight 0.3), loss2/loss (weight 0.3)" in notes
    assert "TRAIN-only layers skipped: data" in notes and "crop_size 224" in notes


def test_train_val_as_deploy() -> None:
    deploy, train = analyze(_file("bvlc_alexnet__deploy")), analyze(_file("bvlc_alexnet__train_val"))
    assert [(x.name, x.shape, x.params) for x in deploy][1:-1] == [(x.name, x.shape, x.params) for x in train][1:]
    notes = " ".join(w for _, w in train.warnings)
    assert "loss, accuracy and silence layers left out" in notes and "accuracy, loss" in notes


@pytest.mark.torch
@pytest.mark.parametrize("stem", ["bvlc_alexnet__deploy", "bvlc_reference_caffenet__deploy",
                                  "bvlc_googlenet__deploy"])
def test_against_pytorch(torch: ModuleType, stem: str) -> None:
    r = analyze(_file(stem))
    module = to_torch(_file(stem)).eval()
    assert sum(p.numel() for p in module.parameters()) == r.totals.params
    with torch.no_grad():
        outs = module(torch.zeros(1, *r.input.dims), return_all=True)
    for layer in r:
        assert tuple(outs[layer.name].shape[1:]) == layer.shape.dims, layer.name


def test_input_override() -> None:
    r = analyze(_file("bvlc_alexnet__deploy"), input="3x224x224")
    assert r["conv1"].shape.dims == (96, 54, 54)  # Caffe floors convolutions
    r = analyze(_file("bvlc_googlenet__train_val"), input="3x256x256")
    assert r.input.dims == (3, 256, 256)
    assert not any("assumed" in w for _, w in r.warnings)


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(_file("bvlc_alexnet__deploy")), "--format", "json"]) == 0
    assert '"convention": "caffe"' in capsys.readouterr().out


V2 = """
name: "small"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 20 dim: 20 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "sc1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "split" type: "Split" bottom: "conv1" top: "a" top: "b" }
layer { name: "c2" type: "Convolution" bottom: "a" top: "c2"
        convolution_param { num_output: 8 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "dil" type: "Convolution" bottom: "b" top: "dil"
        convolution_param { num_output: 8 kernel_size: 3 pad: 2 dilation: 2 group: 4 } }
layer { name: "fpool" type: "Pooling" bottom: "dil" top: "fpool"
        pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR } }
layer { name: "cpool" type: "Pooling" bottom: "dil" top: "cpool" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "sum" type: "Eltwise" bottom: "c2" bottom: "b" top: "sum" }
layer { name: "max" type: "Eltwise" bottom: "c2" bottom: "sum" top: "max" eltwise_param { operation: MAX } }
layer { name: "cat" type: "Concat" bottom: "max" bottom: "b" top: "cat" }
layer { name: "pool" type: "Pooling" bottom: "cat" top: "pool"
        pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "gpool" type: "Pooling" bottom: "pool" top: "gpool" pooling_param { pool: MAX global_pooling: true } }
layer { name: "norm" type: "LRN" bottom: "pool" top: "norm" lrn_param { local_size: 3 norm_region: WITHIN_CHANNEL } }
layer { name: "flat" type: "Flatten" bottom: "norm" top: "flat" }
layer { name: "fc" type: "InnerProduct" bottom: "flat" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "fc2" type: "InnerProduct" bottom: "gpool" top: "fc2" inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""

V1 = """
name: "small"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 20 input_dim: 20
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
         convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool" type: POOLING bottom: "conv1" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "fc" type: INNER_PRODUCT bottom: "pool" top: "fc" inner_product_param { num_output: 10 } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "fc" bottom: "label" top: "loss" }
"""


@pytest.mark.torch
def test_small_net_against_pytorch(torch: ModuleType) -> None:
    g = from_prototxt(V2)
    r = analyze(g)
    assert [n.name for n in g][:6] == ["data", "conv1", "bn1", "sc1", "relu1", "c2"]  # Split has no row
    assert r["bn1"].params == 0 and r["bn1"].buffers == 2 * 8 + 1  # Caffe's three blobs: C, C, 1
    assert r["sc1"].params == 16
    assert (r["fpool"].shape.dims, r["cpool"].shape.dims) == ((8, 4, 4), (8, 5, 5))  # 10 wide: floor, ceil
    module = to_torch(g).eval()
    assert sum(p.numel() for p in module.parameters()) == r.totals.params
    with torch.no_grad():
        outs = module(torch.randn(2, 3, 20, 20), return_all=True)
    for layer in r:
        assert tuple(outs[layer.name].shape[1:]) == layer.shape.dims, layer.name


def test_v1_syntax() -> None:
    r = analyze(from_prototxt(V1))
    assert [(x.name, x.kind, x.shape.dims) for x in r] == [
        ("data", "input", (3, 20, 20)), ("conv1", "conv", (8, 10, 10)), ("relu1", "relu", (8, 10, 10)),
        ("pool", "maxpool", (8, 5, 5)), ("fc.flatten", "flatten", (200,)), ("fc", "linear", (10,))]
    assert any("left out" in w and "loss" in w for _, w in r.warnings)


def test_text_format_reader() -> None:
    msg = parse("""
        # a comment
        a: 1  b: -2.5e-3 c: "x\\ty" 'z'  d: ENUM  e: [1, 2, 3]
        m { n: 1 } m < n: 2 >; f: 0x1F g: true
        s: "multi" "part"
    """)
    assert msg.integer("a") == 1 and msg.number("b") == -2.5e-3
    assert msg.text("c") == "x\tyz" and msg.text("s") == "multipart"
    assert msg.integers("e") == [1, 2, 3] and msg.integer("f") == 31 and msg.flag("g", False)
    assert [m.integer("n") for m in msg.messages("m")] == [1, 2]
    assert msg.enum("d", ("OTHER", "ENUM"), "OTHER") == "ENUM"
    assert msg.last("a") is not None and msg.last("a").place.line == 3  # type: ignore[union-attr]


_LAYER = 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n'


def _conv(params: str, name: str = "c1") -> str:
    return (_LAYER + f'layer {{ name: "{name}" type: "Convolution" bottom: "data" top: "{name}"\n'
            f"  convolution_param {{ {params} }} }}\n")


BAD: list[tuple[str, str, type[NetarithError], str]] = [
    ("unclosed brace", 'layer { name: "x"', SourceError, "t.prototxt:1:7: '{' is never closed"),
    ("unclosed string", 'name: "abc', SourceError, "1:7: this string is not closed on its line"),
    ("bad number", "a: 1.2.3", SourceError, "1:4: not a number: '1.2.3'"),
    ("missing colon", "a 3", SourceError, "1:3: expected ':' or '{' after 'a'"),
    ("stray brace", "a: 1 }", SourceError, "1:6: unexpected '}': no message is open here"),
    ("unclosed list", "a: [1, 2", SourceError, "1:4: '[' is never closed"),
    ("binary", "a: 1\x00", SourceError, "NUL bytes"),
    ("unknown type", _LAYER + 'layer { name: "c" type: "Convolutoin" bottom: "data" top: "c" }',
     SourceError, "2:25: layer 'c': unknown layer type 'Convolutoin'; did you mean 'Convolution'? netarith reads"),
    ("unknown bottom", _LAYER + 'layer { name: "r" type: "ReLU" bottom: "dta" top: "r" }',
     SourceError, "bottom 'dta' is not the top of any earlier layer; did you mean 'data'"),
    ("no num_output", _conv("kernel_size: 3"), SourceError, "2:1: layer 'c1' (Convolution): 'num_output'"),
    ("no kernel", _conv("num_output: 4"), SourceError, "'kernel_size' is missing"),
    ("negative pad", _conv("num_output: 4 kernel_size: 3 pad: -1"), SourceError,
     "3:57: layer 'c1' (Convolution): 'pad' must be >= 0: -1"),
    ("kernel_h alone", _conv("num_output: 4 kernel_h: 3"), SourceError, "give both 'kernel_h' and 'kernel_w'"),
    ("three kernel sizes", _conv("num_output: 4 kernel_size: 3 kernel_size: 3 kernel_size: 3"), SourceError,
     "3 values of 'kernel_size' for an input with 2 spatial axes"),
    ("not an integer", _conv("num_output: 4.5 kernel_size: 3"), SourceError, "'num_output' must be an integer"),
    ("groups", _conv("num_output: 5 kernel_size: 3 group: 3"), SpecError,
     "layer 'c1' (Convolution): conv: groups 3 does not divide the 5 output channels"),
    ("kernel too big", _conv("num_output: 4 kernel_size: 9"), ShapeError,
     "2:1: c1: kernel 9 is larger than the padded input 8x8"),
    ("no input", 'layer { name: "r" type: "ReLU" bottom: "x" top: "r" }', SourceError,
     "bottom 'x' is not the top of any earlier layer"),
    ("empty", "", SourceError, "the network has no input"),
    ("input_dim count", 'input: "data"\ninput_dim: 1 input_dim: 3 input_dim: 8', SourceError,
     "1 input(s) need 4 'input_dim' values"),
    ("V1 enum in layer", 'layer { name: "c" type: CONVOLUTION }', SourceError,
     "'type' must be a quoted string, got CONVOLUTION (the old 'layers { type: ENUM }' syntax uses 'layers')"),
    ("mixed syntax", 'layer { name: "a" type: "ReLU" }\nlayers { name: "b" type: RELU }', SourceError,
     "mixes 'layer { }' and the old 'layers { }'"),
    ("label read", 'layer { name: "d" type: "Data" top: "data" top: "label" transform_param { crop_size: 8 } }\n'
     'layer { name: "r" type: "ReLU" bottom: "label" top: "r" }', SourceError, "the labels of a data layer"),
    ("bad enum", _LAYER + 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param '
     "{ pool: MAXX kernel_size: 2 } }", SourceError, "'pool' must be one of MAX, AVE, STOCHASTIC, got MAXX; "
     "did you mean 'MAX'"),
]


@pytest.mark.parametrize(("label", "text", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed(label: str, text: str, error: type[NetarithError], message: str) -> None:
    with pytest.raises(error) as info:
        from_prototxt(text, source="t.prototxt")
    assert message in str(info.value), str(info.value)


def test_messages_point_at_the_text() -> None:
    with pytest.raises(SourceError) as info:
        from_prototxt(_conv("num_output: 4 kernel_size: 3 pad: -1"), source="t.prototxt")
    _, shown, caret = str(info.value).split("\n")
    assert shown.strip() == "convolution_param { num_output: 4 kernel_size: 3 pad: -1 } }"
    assert caret.index("^") == shown.index("-1")  # the caret is under the bad value


def test_cli_error_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.prototxt"
    bad.write_text('layer { name: "x" type: "ReLU"')
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.prototxt:1:7: '{' is never closed" in err and "Traceback" not in err


def test_loader_is_registered() -> None:
    g = load(str(_file("bvlc_alexnet__deploy")))
    assert g.name == "AlexNet" and g.convention == "caffe"


@pytest.mark.parametrize("stem", [*ALEXNETS, "bvlc_googlenet__deploy", "bvlc_googlenet__train_val"])
def test_imported_graphs_print_as_notation(stem: str) -> None:
    from netarith import parse, to_notation

    g = load(str(_file(stem)))
    assert parse(to_notation(g)) == g
