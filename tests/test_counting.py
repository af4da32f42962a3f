"""The counting presets against the tools themselves: torchinfo 1.8.0, fvcore 0.1.5,
ptflops 0.7.5 (both backends) and thop 0.1.1, run on the same networks built by
``to_torch`` (from notation) or read by the importer (from PyTorch)."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

import netarith
from netarith import SpecError, analyze, parse, to_torch
from netarith.cli import main
from netarith.counting import ITEMS, TOOLS, count, reconcile

from . import torch_models as TM
from .conftest import EXAMPLES

pytestmark = pytest.mark.torch

NETWORKS = {
    "alexnet": """
        input 3x224x224
        conv 64 k11 s4 p2 | relu | maxpool 3 s2 | conv 192 k5 p2 | relu | maxpool 3 s2
        conv 384 k3 p1 | relu | conv 256 k3 p1 | relu | conv 256 k3 p1 | relu | maxpool 3 s2
        adaptiveavgpool 6 | flatten | dropout | linear 4096 | relu | dropout | linear 4096 | relu | linear 1000
    """,
    "residual-block": (EXAMPLES / "residual-block.net").read_text(),
    "encoder-decoder": (EXAMPLES / "encoder-decoder.net").read_text(),
    "mixed": """
        input 3x32x32
        a: conv 16 k3 p1 | gn 4 | gelu | conv 16 k3 p1 g16 nobias | instancenorm affine | prelu channels
        b: conv 16 k1 same <- input
        c: add a b
        d: mul c b
        leakyrelu | relu6 | silu | hardswish | elu | sigmoid | lrn 5
        avgpool 2 | upsample 2 | upsample 2 bilinear | maxpool 2 s2 ceil | globalavgpool | flatten
        linear 32 | ln | linear 10 | softmax
    """,
    "transposed": "8x10x10 | convT 8 k4 s2 p1 | bn | convT 4 k3 s2 nobias | adaptiveavgpool 3 | flatten | linear 5",
    "one-dimensional": """
        input 3x50
        conv 8 k5 s2 | bn | relu | maxpool 2 | upsample 2 linear | convT 4 k3 s2 | avgpool 3
        adaptiveavgpool 1 | flatten | linear 2
    """,
}

#: torchinfo multiplies by the first axis of a module's output at batch 1: when the batch
#: is folded into another axis (Swin's windows) or the whole model is one module without
#: children, that axis is not in netarith's per-sample graph.
IMPORTED = {
    "conv_net": TOOLS, "transformer": TOOLS, "attention_net": TOOLS, "volume_net": TOOLS,
    "signal_net": TOOLS, "aux_net": TOOLS,
    "functional_net": tuple(t for t in TOOLS if t != "torchinfo"),
    "window_net": tuple(t for t in TOOLS if t != "torchinfo"),
}


@pytest.fixture(scope="module")
def tools(torch: ModuleType) -> ModuleType:
    pytest.importorskip("fvcore")
    from . import counting_tools

    return counting_tools


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_notation_networks(tools: ModuleType, name: str) -> None:
    graph = parse(NETWORKS[name])
    report = analyze(graph)
    measured = tools.measure(to_torch(graph), report.input.dims)
    assert {c.tool: c.total for c in reconcile(report)} == measured


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_imported_models(tools: ModuleType, torch: ModuleType, name: str) -> None:
    factory = getattr(TM, name)
    report = analyze(netarith.from_torch(factory, "x".join(map(str, TM.INPUTS[name]))))
    torch.manual_seed(0)
    measured = tools.measure(factory(), TM.INPUTS[name], IMPORTED[name])
    assert {tool: count(report, tool).total for tool in IMPORTED[name]} == measured


def test_items_add_up_and_name_the_differences() -> None:
    report = analyze(NETWORKS["transposed"])
    by_tool = {c.tool: c for c in reconcile(report)}
    for c in by_tool.values():
        assert c.total == c.macs + sum(c.items.values())
        assert set(c.items) == set(ITEMS)
    # thop and torchinfo count the transposed convolutions on the output side; fvcore does not.
    assert by_tool["thop"].items["transposed conv on the output side"] > 0
    assert by_tool["fvcore"].items["transposed conv on the output side"] == 0
    assert by_tool["ptflops"].items["bias adds"] == sum(r.extras.get("bias", 0) for r in report)


def test_count_refuses_what_it_cannot_know() -> None:
    with pytest.raises(SpecError, match="did you mean 'thop'"):
        count(analyze("3x8x8 | conv 4 k3"), "thp")
    report = analyze("3x8x8 | x: opaque op=mystery shape=4x6x6")
    with pytest.raises(SpecError, match="x: netarith could not count"):
        count(report, "fvcore")


def test_cli_reconcile(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "residual-block.net")
    assert main(["reconcile", path]) == 0
    text = capsys.readouterr().out
    report = analyze(path)
    for c in reconcile(report):
        assert f"{c.tool}" in text and f"{c.total:,}" in text
    assert "normalisation" in text and "counted twice" in text
    assert main(["reconcile", path, "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["tool"] for t in data["tools"]] == list(TOOLS)


def test_cli_analyze_count(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "residual-block.net")
    assert main(["analyze", path, "--count", "thop", "--count", "torchinfo", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    report = analyze(path)
    assert [c["total"] for c in data["counts"]] == [count(report, "thop").total, count(report, "torchinfo").total]
    assert main(["analyze", path, "--count", "fvcore"]) == 0
    line = f"fvcore 0.1.5 (FlopCountAnalysis.total()): {count(report, 'fvcore').total:,} = MACs"
    assert line in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["analyze", path, "--count", "flops"])
