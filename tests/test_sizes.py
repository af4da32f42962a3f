"""Closed forms, smallest inputs and exact inputs (sizes.py), against two oracles:

* torchvision's published ``min_size`` (tests/data/torchvision_meta.csv) for the CNNs written
  here (tests/tvnets.py) and, once they are in the zoo, for every torchvision CNN of the zoo;
* brute force: the analysis run at every size of a range, for random networks (hypothesis):
  each closed form must equal the size the analysis computes, the closed-form validity must
  equal the analysis accepting the input, and the exact sizes must be those without a
  warning about dropped or invented pixels.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netarith import CONVENTIONS, NetarithError, ShapeError, analyze, parse, zoo
from netarith.analyze import analyze_graph
from netarith.cli import main
from netarith.graph import Graph
from netarith.sizes import exact_at, size_model, sizes

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"


def _load_tvnets() -> ModuleType:
    """tests/tvnets.py, imported by path (pytest does not put tests/ on sys.path)."""
    spec = importlib.util.spec_from_file_location("tvnets", Path(__file__).parent / "tvnets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tvnets = _load_tvnets()
NETS = tvnets.NETS
googlenet = tvnets.googlenet


def _meta() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    with open(DATA / "torchvision_meta.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["model"], row)
    return rows


META = _meta()


def _min_size(name: str) -> tuple[int, ...]:
    return tuple(int(v) for v in META[name]["min_size"].split("x"))


# Transformers: their min_size is the fixed patch grid / position embeddings / attention windows
# they were trained with, not where the window arithmetic stops.
NOT_CNN = ("vit_", "swin_", "maxvit_")
# torchvision publishes 33x33, but torchvision 0.29.1 runs efficientnet_v2_s in eval mode at 1x1 (and
# at 2, 16, 32: checked with the .venv-tv interpreter); 33 is not where its arithmetic stops.
NOT_ARITHMETIC = ("efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l")
CNNS = [name for name in META if not name.startswith(NOT_CNN)]


@pytest.mark.parametrize("name", list(NETS))
def test_the_test_networks_are_torchvisions(name: str) -> None:
    graph = googlenet(aux=False) if name == "googlenet" else NETS[name]()  # published without aux heads
    assert analyze_graph(graph).totals.params == int(META[name]["num_params"])


@pytest.mark.parametrize("name", list(NETS))
def test_min_input_is_torchvisions_min_size(name: str) -> None:
    result = sizes(NETS[name]())
    assert result.min_input == _min_size(name)
    assert result.method == "closed form"
    _check_min_by_running(NETS[name](), result.min_input)


def _check_min_by_running(graph: Graph, smallest: tuple[int, ...]) -> None:
    """The analysis accepts the smallest input, and refuses one pixel less on any axis."""
    channels = graph.inputs[0].op.shape.channels  # type: ignore[attr-defined]
    plain = Graph(tuple(n for n in graph.nodes if not n.train_only and "aux" not in n.name), graph.name)
    analyze_graph(plain.with_input((channels, *smallest)))
    for axis, n in enumerate(smallest):
        if n > 1:
            less = list(smallest)
            less[axis] -= 1
            with pytest.raises(ShapeError):
                analyze_graph(plain.with_input((channels, *less)))


@pytest.mark.parametrize("name", CNNS)
def test_every_torchvision_cnn_in_the_zoo_has_its_min_size(name: str) -> None:
    if not zoo.exists(name):
        pytest.skip(f"{name} is not in the zoo (yet)")
    result = sizes(name)
    if name in NOT_ARITHMETIC:
        assert result.min_input <= _min_size(name)  # valid there too; the published figure is not a minimum
    else:
        assert result.min_input == _min_size(name)


def test_googlenet_aux_heads_do_not_limit_eval_mode() -> None:
    # An Inception-v3-style auxiliary head: a 5x5 average pool that needs a 17x17 map.
    text = ("input 3x64x64\nc: conv 8 k3 s2\nmain: conv 8 k3 s2\ngap\nflatten\nfc: linear 10\n"
            "aux: avgpool k5 s3 @train <- main\naux2: conv 8 k5\n")
    eval_ = sizes(text)
    train = sizes(text, mode="train")
    assert eval_.min_input == (7, 7)  # c: 3, main: 1
    assert train.min_input == eval_.min_input_train == (71, 71)  # main must give 5 for the pool: 2*(2*5+1)+1
    with pytest.raises(ShapeError):
        analyze(text, input="3x70x70", mode="train")
    analyze(text, input="3x71x71", mode="train")


# ----------------------------------------------------------------------------- the AlexNet of the paper


def test_alexnet_paper_227_is_exact_and_224_is_not() -> None:
    result = sizes(EXAMPLES / "alexnet-paper.net", convention="pytorch", range=(200, 260))
    assert 227 in result.exact_inputs["H"] and 224 not in result.exact_inputs["H"]
    assert result.nearest_exact["H"] == (195, 227)
    pool5 = next(x for x in result.layers if x.name == "pool5")
    assert str(pool5.dims[1]) == "floor((H - 35)/32)" and pool5.dims[1].value({"H": 227, "W": 227}) == 6
    assert "conv1 drops 1 pixel along H" in result.default_inexact["H"]


def test_sizes_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["sizes", str(EXAMPLES / "alexnet-paper.net"), "-c", "pytorch", "--range", "60:240",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["min_input"] == [67, 67]
    assert data["exact_inputs"]["H"] == [67, 99, 131, 163, 195, 227]
    assert data["closed_form"]["pool5"]["H"] == "floor((H - 35)/32)"
    assert data["closed_form"]["flatten_1"]["features"] == "256*floor((H - 35)/32)*floor((W - 35)/32)"
    assert main(["sizes", str(EXAMPLES / "alexnet-paper.net"), "--range", "9:3"]) == 2


def test_sizes_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sizes", str(EXAMPLES / "alexnet-paper.net"), "-c", "pytorch"]) == 0
    out = capsys.readouterr().out
    assert "floor((H - 35)/32)" in out and "67x67" in out and "195 and 227" in out


# ----------------------------------------------------------------------------- brute force


@st.composite
def networks(draw: Any) -> tuple[str, str]:
    """A random network as notation (1d or 2d), and a convention."""
    rank = draw(st.sampled_from([1, 1, 2]))
    size = draw(st.integers(24, 64))
    lines = ["input 2x" + "x".join([str(size)] * rank)]
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "pool", "convT", "upsample", "pad", "residual",
                                     "split", "same"]))
        k = draw(st.integers(1, 5))
        s = draw(st.integers(1, 3))
        if kind == "conv":
            pads = draw(st.sampled_from(["p0", "p1", "p2", "p0+1", "p2+1", "p1+3"]))
            lines.append(f"L{i}: conv 3 k{k} s{s} {pads} d{draw(st.sampled_from([1, 1, 2]))}")
        elif kind == "pool":
            p = draw(st.integers(0, k // 2))
            ceil = draw(st.sampled_from(["", "ceil", "floor"]))
            which = draw(st.sampled_from(["maxpool", "avgpool"]))
            lines.append(f"L{i}: {which} k{k} s{s} p{p} {ceil}".rstrip())
        elif kind == "convT":
            op = draw(st.integers(0, s - 1))
            lines.append(f"L{i}: convT 3 k{k} s{s} p{draw(st.integers(0, 1))} op{op}")
        elif kind == "upsample":
            lines.append(f"L{i}: upsample {draw(st.sampled_from(['2', '3', '1.5', '0.5']))}")
        elif kind == "pad":
            lines.append(f"L{i}: pad {draw(st.sampled_from(['1', '0+2', '2+1']))}")
        elif kind == "residual":
            lines.append(f"L{i}b: conv 2 k3 p1")
            lines.append(f"L{i}: add L{i}b {'input' if i == 0 else _last(lines[-2])}")
        elif kind == "split":  # two branches that agree only at some sizes (a U-Net skip)
            prev = "input" if i == 0 else _last(lines[-1])
            lines.append(f"L{i}a: maxpool k2 s2 <- {prev}")
            lines.append(f"L{i}b: upsample 2")
            lines.append(f"L{i}: concat L{i}b {prev}")
        elif kind == "same":
            lines.append(f"L{i}: conv 3 k{k} same")
    convention = draw(st.sampled_from(list(CONVENTIONS)))
    return "\n".join(lines) + "\n", convention


def _last(line: str) -> str:
    return line.split(":")[0]


def _shapes(graph: Graph, convention: str) -> dict[str, tuple[int, ...]] | None:
    try:
        return {r.name: r.shape.dims for r in analyze_graph(graph, convention=convention)}
    except (ShapeError, NetarithError):
        return None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(networks())
def test_closed_forms_equal_the_analysis_at_every_size(net: tuple[str, str]) -> None:
    text, convention = net
    graph = parse(text)
    assume(_shapes(graph, convention) is not None)
    model = size_model(graph, convention)
    axis = model.variables[0]
    channels, *spatial = graph.inputs[0].op.shape.dims  # type: ignore[attr-defined]
    first_valid = None
    for n in range(1, 2 * spatial[0] + 8):
        env = model.env(**{axis: n})
        real = _shapes(graph.with_input((channels, n, *spatial[1:])), convention)
        assert (model.failing(env) is None) == (real is not None), (text, convention, n, model.failing(env))
        if real is None:
            continue
        first_valid = first_valid or n
        for layer in model.layers:
            for dim, expr in enumerate(layer.dims):
                if axis in expr.variables() or not expr.variables():
                    assert expr.value(env) == real[layer.name][dim], (text, convention, n, layer.name, str(expr))
        if len(spatial) == 1:
            report = analyze_graph(graph.with_input((channels, n)), convention=convention)
            warned = any("never reach" in w or "hangs" in w for _, w in report.warnings)
            assert exact_at(model, axis, n) == (not warned), (text, convention, n)
    result = sizes(graph, convention=convention, range=(1, 8))
    if first_valid is not None:
        assert result.min_input[0] == first_valid, (text, convention)
