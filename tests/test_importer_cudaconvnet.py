"""The cuda-convnet importer: the AlexNet its authors ran, from akrizhevsky/cuda-convnet2's files.

Oracles: the AlexNet paper (Krizhevsky et al. 2012, section 3.5 and the Figure 2
caption: 96 kernels in two groups of 48, 55x55 maps from a 224 input, the neuron
counts 186,624-64,896-64,896-43,264-4096-4096-1000); the Caffe replica of the same
network (bvlc_alexnet, read by the other importer); torchvision's AlexNet metadata
for the 1-GPU "one weird trick" widths (num_params and GFLOPS in
tests/data/torchvision_meta.csv); PyTorch running the imported network.
"""

from __future__ import annotations

import csv
from types import ModuleType

import pytest

from netarith import GraphError, NetarithError, ShapeError, SourceError, analyze, to_torch
from netarith.importers.cudaconvnet import from_cfg, load

from .conftest import DATA

FILES = DATA / "model-files" / "cuda-convnet2"


def _meta(model: str) -> dict[str, str]:
    with (DATA / "torchvision_meta.csv").open() as f:
        return next(row for row in csv.DictReader(f) if row["model"] == model)


def test_two_gpu_model_is_the_paper() -> None:
    r = analyze(FILES / "layers-imagenet-2gpu-model.cfg")
    assert r.convention.name == "cuda-convnet" and r.input.dims == (3, 224, 224)
    assert r["conv1a"].shape.dims == r["conv1b"].shape.dims == (48, 55, 55)  # 96 kernels, two GPUs
    pairs = [("conv2a", "conv2b"), ("conv3a", "conv3b"), ("conv4a", "conv4b"), ("conv5a", "conv5b"),
             ("fc2048a", "fc2048b"), ("fc2048ba", "fc2048bb")]
    neurons = [r[a].neurons + r[b].neurons for a, b in pairs] + [r["fc1000"].neurons]
    assert neurons == [186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    caffe = analyze(DATA / "model-files" / "BVLC_caffe" / "bvlc_alexnet__deploy.prototxt")
    assert (r.totals.params, r.totals.macs) == (caffe.totals.params, caffe.totals.macs) == (60_965_224, 724_406_816)
    notes = " ".join(w for _, w in r.warnings)
    assert "224x224 assumed" in notes and "left out: logprob, labels" in notes
    assert r["rnorm1a"].node.op.k == 2.0  # type: ignore[attr-defined]  # minDiv from layer-params
    assert r["cnorm2a"].node.op.region == "within"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["layers-imagenet-1gpu.cfg", "layers-imagenet-2gpu-data.cfg"])
def test_one_gpu_widths_are_torchvision_alexnet(name: str) -> None:
    r = analyze(FILES / name)
    meta = _meta("alexnet")
    assert r.totals.params == int(meta["num_params"])
    assert round(r.totals.macs / 1e9, 3) == float(meta["gflops"])
    assert [layer.shape.channels for layer in r if layer.kind == "conv"] == [64, 192, 384, 256, 256]
    assert r["conv1"].shape.dims == (64, 55, 55)


def test_input_flag() -> None:
    r = analyze(FILES / "layers-imagenet-2gpu-model.cfg", input="3x227x227")
    assert r["conv1a"].shape.dims == (48, 55, 55)  # 1 + ceil(216/4): the same 55
    assert not any("assumed" in w for _, w in r.warnings)
    r = analyze(FILES / "layers-imagenet-1gpu.cfg", input="3x256x256")
    assert r["conv1"].shape.dims == (64, 63, 63)


def test_missing_layer_params_is_noted() -> None:
    r = analyze(FILES / "layers-imagenet-2gpu-data.cfg")
    assert any("no layer-params file gives scale/pow/minDiv for rnorm1, rnorm2" in w for _, w in r.warnings)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["layers-imagenet-2gpu-model.cfg", "layers-imagenet-1gpu.cfg"])
def test_against_pytorch(torch: ModuleType, name: str) -> None:
    r = analyze(FILES / name)
    module = to_torch(load(FILES / name)).eval()
    assert sum(p.numel() for p in module.parameters()) == r.totals.params
    with torch.no_grad():
        outs = module(torch.zeros(1, 3, 224, 224), return_all=True)
    for layer in r:
        assert tuple(outs[layer.name].shape[1:]) == layer.shape.dims, layer.name


HEAD = "[data]\ntype=data\ndataIdx=0\n\n"


def _conv(extra: str = "", name: str = "conv1") -> str:
    return HEAD + f"[{name}]\ntype=conv\ninputs=data\nchannels=3\nfilters=16\nfilterSize=3\n{extra}"


def test_unshared_and_local_layers() -> None:
    g = from_cfg(_conv("sharedBiases=0\n") + "[loc]\ntype=local\ninputs=conv1\nchannels=16\n"
                 "filters=16\nfilterSize=3\n", input="3x8x8")
    r = analyze(g)
    # a bias per output position: 16 x 6 x 6 of them; a locally-connected layer: weights per position too
    assert r["conv1"].params == 16 * 3 * 9 + 16 * 6 * 6 and "macs" in r["conv1"].uncounted
    assert r["loc"].params == 16 * 4 * 4 * (16 * 9 + 1) and r["loc"].shape.dims == (16, 4, 4)
    # their shapes hold for the input they were read for: another input is refused, not miscounted
    with pytest.raises(ShapeError, match="was read for the input 3x8x8, not 3x9x9"):
        analyze(g, input="3x9x9")


BAD: list[tuple[str, str, type[NetarithError], str]] = [
    ("no section", "type=conv\n", SourceError, "t.cfg:1:1: the file must start with a [layer] section"),
    ("not key=value", "[a]\nthis is not\n", SourceError, "t.cfg:2:1: not a 'key=value' line"),
    ("duplicate layer", "[a]\ntype=data\n[a]\ntype=data\n", SourceError, "t.cfg:3:1: layer [a] is defined twice"),
    ("duplicate key", "[a]\ntype=data\ntype=data\n", SourceError, "t.cfg:3:1: [a] sets 'type' twice"),
    ("empty", "", SourceError, "no layers"),
    ("darknet", "[net]\nwidth=416\n[convolutional]\nfilters=32\n", SourceError,
     "not a cuda-convnet layer file (it looks like a Darknet .cfg)"),
    ("unknown type", _conv().replace("type=conv", "type=convv"), SourceError,
     "t.cfg:6:1: [conv1] unknown layer type 'convv'; did you mean 'conv'? netarith reads"),
    ("unknown input", _conv().replace("inputs=data", "inputs=dta"), SourceError,
     "t.cfg:7:1: [conv1] reads 'dta', which is not a layer; did you mean 'data'"),
    ("cycle", "[a]\ntype=neuron\nneuron=relu\ninputs=b\n[b]\ntype=neuron\nneuron=relu\ninputs=a\n",
     GraphError, "the layers form a cycle: a -> b -> a"),
    ("channels", _conv().replace("channels=3", "channels=4"), SourceError,
     "t.cfg:8:1: [conv1] channels=4, but its input data has 3 channels"),
    ("no filterSize", _conv().replace("filterSize=3\n", ""), SourceError, "[conv1] needs 'filterSize='"),
    ("bad integer", _conv("stride=two\n"), SourceError,
     "t.cfg:11:1: [conv1] 'stride' must be integers separated by commas: 'two'"),
    ("zero stride", _conv("stride=0\n"), SourceError, "[conv1] 'stride' must be >= 1: 0"),
    ("kernel too big", _conv().replace("filterSize=3", "filterSize=300"), ShapeError,
     "conv1: kernel 300 is larger than the padded input"),
    ("groups and inputs", HEAD + "[p]\ntype=neuron\nneuron=relu\ninputs=data\n" + _conv("groups=2,2\n")
     .replace(HEAD, "").replace("inputs=data", "inputs=data,p").replace("channels=3", "channels=3,3"),
     SourceError, "groups with several inputs"),
    ("start > 0", HEAD + "[p]\ntype=pool\npool=max\ninputs=data\nchannels=3\nsizeX=2\nstride=2\nstart=1\n",
     SourceError, "start=1 skips input pixels"),
    ("pool kind", HEAD + "[p]\ntype=pool\npool=median\ninputs=data\nchannels=3\nsizeX=2\nstride=2\n",
     SourceError, "'pool' must be max, maxabs or avg, got 'median'"),
    ("bad neuron", _conv("neuron=relu[\n"), SourceError, "cannot read neuron='relu['"),
    ("groups", _conv("groups=3\n").replace("channels=3", "channels=4"), SourceError, "channels=4, but"),
    ("groups divide", HEAD + "[c]\ntype=conv\ninputs=data\nchannels=3\nfilters=4\nfilterSize=1\ngroups=2\n",
     ShapeError, "groups 2 does not divide the 3 input channels"),
    ("dropout keep", _conv() + "[d]\ntype=dropout\ninputs=conv1\nkeep=2\n", SourceError,
     "'keep' must be between 0 and 1: 2.0"),
]


@pytest.mark.parametrize(("label", "text", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed(label: str, text: str, error: type[NetarithError], message: str) -> None:
    with pytest.raises(error) as info:
        from_cfg(text, source="t.cfg", input="3x16x16")
    assert message in str(info.value), str(info.value)



@pytest.mark.parametrize("name", ["layers-imagenet-2gpu-model.cfg", "layers-imagenet-1gpu.cfg"])
def test_imported_graphs_print_as_notation(name: str) -> None:
    from netarith import parse, to_notation

    g = load(FILES / name)
    assert parse(to_notation(g)) == g
