"""The zoo, parametrised over its registry: every model builds fast, round-trips through
notation, is listed by ``netarith zoo``, and, where torchvision publishes figures for its
name, matches them exactly.

The oracle for torchvision's models is tests/data/torchvision_meta.csv (the weights'
``num_params`` and ``_ops``, copied from torchvision 0.29; see tests/data/SOURCES.md).
Any model registered under a name in that file is checked, whoever wrote it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from netarith import NetarithError, Shape, SourceError, analyze, parse, to_notation, zoo
from netarith.analyze import analyze_graph
from netarith.cli import main
from netarith.graph import Graph
from netarith.zoo.registry import register

DATA = Path(__file__).parent / "data"
SRC = Path(__file__).parent.parent / "src"


def _meta() -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    with open(DATA / "torchvision_meta.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["model"], []).append(row)
    return rows


META = _meta()
NAMES = zoo.names()
TORCHVISION = [name for name in NAMES if name in META]
#: The torchvision models of the classic families (issue 3); the mobile families are elsewhere.
CLASSIC_TORCHVISION = [
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
    "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "densenet121", "densenet161", "densenet169",
    "densenet201", "googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1",
]


def _run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_the_classic_torchvision_models_are_all_registered() -> None:
    assert set(CLASSIC_TORCHVISION) <= set(META)  # the names are torchvision's own
    assert [name for name in CLASSIC_TORCHVISION if name not in NAMES] == []


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_models_match_the_weights_metadata(name: str) -> None:
    """Every weights row of the model, at that row's crop size (RegNet's SWAG weights use 384)."""
    graph = zoo.build(name)
    crops = {int(row["crop_size"]) for row in META[name]}
    assert graph.inputs[0].op.shape in {Shape((3, c, c)) for c in crops}, "default input = a weights' crop size"
    for row in META[name]:
        crop = int(row["crop_size"])
        totals = analyze_graph(graph.with_input(Shape((3, crop, crop)))).totals
        assert totals.params == int(row["num_params"]), row["weights"]
        assert round(totals.macs / 1e9, 3) == float(row["gflops"]), row["weights"]


@pytest.mark.parametrize("name", NAMES)
def test_every_model_builds_fast_and_knows_its_input_and_source(name: str) -> None:
    entry = zoo.get(name)
    start = time.perf_counter()
    graph = entry.builder()  # not the cached build: time the real thing
    elapsed = time.perf_counter() - start
    assert elapsed < 0.25, f"{name} took {elapsed * 1000:.0f} ms to build"
    assert graph.name == name
    assert [str(n.op.shape) for n in graph.inputs] == [entry.input]
    assert entry.family and entry.source
    assert len(graph.outputs) == 1 + sum(1 for n in graph.outputs if n.train_only)


@pytest.mark.parametrize("name", NAMES)
def test_every_model_round_trips_through_notation(name: str) -> None:
    graph = zoo.build(name)
    text = to_notation(graph)
    assert parse(text) == graph
    assert analyze(text).totals == analyze_graph(graph).totals


@pytest.mark.parametrize("name", ["vgg16", "lenet5", "inception_v3", "densenet121"])
def test_show_prints_notation_that_parses_back(name: str) -> None:
    code, text = _run_cli("show", name, "--format", "notation")
    assert code == 0
    assert parse(text) == zoo.build(name)


def test_zoo_command_lists_every_model_with_its_numbers() -> None:
    code, text = _run_cli("zoo", "--format", "json")
    assert code == 0
    rows = json.loads(text)
    assert [r["name"] for r in rows] == NAMES
    for row in rows:
        totals = analyze(row["name"]).totals
        assert (row["params"], row["macs"]) == (totals.params, totals.macs)
        assert row["input"] == zoo.get(row["name"]).input
    code, table = _run_cli("zoo")
    assert code == 0
    listed = [line.split()[0] for line in table.splitlines()[1:]]
    assert listed == NAMES
    assert "25,557,032" in table and "4.089" in table  # resnet50's row


def test_zoo_command_filters_and_refuses_unknown_families() -> None:
    code, text = _run_cli("zoo", "resnet5", "--format", "csv")
    assert code == 0
    names = [row["name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == [n for n in NAMES if "resnet5" in n]
    assert _run_cli("zoo", "--family", "densenet")[1].count("densenet") >= 4
    assert main(["zoo", "--family", "resnt"]) == 2
    with pytest.raises(SourceError, match="did you mean 'resnet'"):
        main(["--debug", "zoo", "--family", "resnt"])


def test_analyze_takes_a_zoo_name_and_another_input() -> None:
    report = analyze("resnet50", input="3x160x160")
    assert report.input == Shape((3, 160, 160))
    assert report["layer4.2.relu_2"].shape == Shape((2048, 5, 5))
    assert report.totals.params == 25_557_032  # the weights do not depend on the input size


def test_unknown_and_duplicate_names_are_refused() -> None:
    with pytest.raises(SourceError, match="did you mean 'resnet50'"):
        zoo.get("resnet05")
    with pytest.raises(NetarithError, match="registered twice"):
        register("vgg16", family="vgg", input="3x224x224", source="a second vgg16")(lambda: Graph(()))


def test_the_cli_needs_no_framework() -> None:
    """`netarith analyze resnet50` and `netarith show vgg16` with torch, onnx and yaml unimportable."""
    code = (
        "import sys\n"
        "for m in ('torch', 'torchvision', 'onnx', 'numpy', 'yaml'): sys.modules[m] = None\n"
        "from netarith.cli import main\n"
        "assert main(['analyze', 'resnet50']) == 0\n"
        "assert main(['show', 'vgg16', '--format', 'notation']) == 0\n"
        "assert main(['zoo', 'inception']) == 0\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(SRC)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "25,557,032" in result.stdout  # resnet50's parameters, in the analysis totals
    assert "features.28: conv 512 k3 p1" in result.stdout  # vgg16's last convolution
    assert "27,161,264" in result.stdout  # inception_v3 in the zoo listing


def test_softmax_and_logsoftmax_analyse() -> None:
    """Regression: they called super() inside a slotted dataclass, which fails."""
    report = analyze("10 | softmax | logsoftmax dim=-1")
    assert [r.shape.dims for r in report] == [(10,), (10,), (10,)]
