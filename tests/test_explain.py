"""Derivations: every number a layer reports is derived, and each derivation ends on that number.

For every layer of a corpus that uses every registered layer kind, under every rounding
convention, the last step recorded for each quantity (each output dim, neurons, params,
buffers, MACs, connections, and the receptive field's size, jump and start per axis) must
exist and its result must equal the number in the report; and each '= ...' stage of the
numbers written into a step must evaluate (floor, ceil, + - * /) to that result.
"""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest

from netarith import CONVENTIONS, analyze, parse
from netarith.analyze import LayerResult, analyze_graph
from netarith.cli import main
from netarith.explain import explain
from netarith.ops import KINDS
from netarith.trace import Step, Trace

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"

CORPUS = {
    "every-kind": (DATA / "every-kind.net").read_text(),
    **{p.stem: p.read_text() for p in sorted(EXAMPLES.glob("*.net"))},
    "uneven": "3x97x83 | conv 4 k5 s3 p1x2 d2 | maxpool k3 s2 | avgpool k2 s2 p0+1 | maxpool k2 s2 ceil "
              "| conv 8 k2 s2 | upsample 3x1.5 | convT 2 k4 s3 p1+2 op2",
    "1d-uneven": "2x50 | conv 3 k4 s3 | maxpool k2 s2 ceil | avgpool k3 s2 p1 | convT 2 k3 s2 p1 op1 | gap",
    "tf-same": "3x33x31 | conv 4 k3 s2 same | maxpool k3 s2 same | conv 4 k5 s3 same",
    "arithmetic": "input 4x6x6\na: conv 4 k1\nb: conv 4 k1 <- input\nd: sub a b\nq: div a b\nm: max a b d\n"
                  "s: scalar mul 0.5\nc: clip min=-1 max=1\nw: tensor 4x1x1 learned\ne: mul c w",
    "tokens": "input 16x8\nq: linear 8\nk: linear 8 <- input\nv: linear 8 <- input\n"
              "att: attention heads=2 q k v\nein: einsum eq=ld,md->lm q k\nex: elementwise op=exp ein\n"
              "s1: slice dim=1 start=0 end=7 step=2 <- att\nsel: select dim=2 index=0 <- s1\n"
              "t: tensor 4x3 learned\nidx: tensor 5 constant\nix: index dim=1 t idx\n"
              "e1: tensor 1x8 constant\nexp: expand 16x8 <- e1\nred: reduce mean 2 keep <- att",
    "lenet": "1x32x32 | conv 6 k5 | subsample 2 | tableconv 4 k5 table=0+1+2,1+2+3,0+2+4,0+1+2+3+4+5 "
             "| subsample 2 | conv 12 k5 | flatten | linear 8 | rbf 3 fixed",
}


# ----------------------------------------------------------------------------- a tiny evaluator


def _evaluate(text: str) -> Fraction | None:
    """Evaluate a step's arithmetic (numbers, + - * /, floor, ceil, max, min, gcd); None if it is prose."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    try:
        return _node(tree.body, text)
    except _Prose:
        return None


class _Prose(Exception):
    pass


_CALLS = {"floor": math.floor, "ceil": math.ceil, "max": max, "min": min, "gcd": math.gcd}


def _node(n: ast.AST, text: str) -> Fraction:
    if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
        return Fraction(ast.get_source_segment(text, n) or str(n.value))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        return -_node(n.operand, text)
    if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        a, b = _node(n.left, text), _node(n.right, text)
        if isinstance(n.op, ast.Add):
            return a + b
        if isinstance(n.op, ast.Sub):
            return a - b
        if isinstance(n.op, ast.Mult):
            return a * b
        return a / b
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _CALLS and not n.keywords:
        args = [_node(a, text) for a in n.args]
        if n.func.id == "gcd":
            return Fraction(math.gcd(*(int(a) for a in args)))
        return Fraction(_CALLS[n.func.id](*args))
    raise _Prose


def _number(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


# ----------------------------------------------------------------------------- the check


def _expected(r: LayerResult) -> dict[str, object]:
    """Every number the report gives for a layer, by the quantity name its derivation uses."""
    shape = r.shape
    names = ("features",) if shape.rank == 0 else ("C", *shape.axis_names())
    want: dict[str, object] = dict(zip(names, shape.dims))
    for q in ("neurons", "params", "buffers", "macs", "connections"):
        if q not in r.uncounted:
            want[q] = getattr(r, q)
    if r.rf is not None:
        for name, axis in zip(("C", *shape.axis_names()), r.rf):
            if axis is not None:
                want[f"rf.size {name}"] = axis.size
                want[f"rf.jump {name}"] = axis.jump
                want[f"rf.start {name}"] = axis.start
    return want


def check(r: LayerResult, steps: list[Step]) -> int:
    """Assert the layer's derivations; return how many arithmetic stages were evaluated."""
    last = {s.quantity: s for s in steps if s.formula}
    evaluated = 0
    for quantity, value in _expected(r).items():
        if quantity in ("C", "features") or quantity in ("D", "H", "W", "L"):
            shape_step = last.get("shape")
            dim_steps = [k for k in last if k.startswith("dim ")]
            if quantity not in last and (shape_step is not None or dim_steps):
                continue  # the shape is derived whole (elementwise, reshape) or per PyTorch dim (permute)
        assert quantity in last, f"{r.name} ({r.kind}): no derivation of {quantity} = {value}"
        step = last[quantity]
        assert _number(step.result) == Fraction(value), (r.name, quantity, step, value)  # type: ignore[arg-type]
    if "shape" in last:
        assert last["shape"].result == str(r.shape), (r.name, last["shape"])
    for k, s in last.items():
        if k.startswith("dim "):
            assert _number(s.result) == r.shape.dims[int(k.split()[1]) - 1]
    for s in steps:
        if not s.formula or not s.numbers:
            continue
        for stage in s.numbers.split(" = "):
            value = _evaluate(stage)
            if value is None:
                continue
            evaluated += 1
            assert value == _number(s.result), (r.name, s.quantity, stage, s.result)
    return evaluated


def test_the_corpus_uses_every_layer_kind() -> None:
    used = {node.op.kind for text in CORPUS.values() for node in parse(text)}
    missing = sorted(set(KINDS) - used)
    assert not missing, f"add these kinds to tests/data/every-kind.net (and derive their numbers): {missing}"


@pytest.mark.parametrize("convention", list(CONVENTIONS))
@pytest.mark.parametrize("name", list(CORPUS))
def test_every_number_is_derived_and_the_derivation_ends_on_it(name: str, convention: str) -> None:
    graph = parse(CORPUS[name])
    traces: dict[str, Trace] = {}
    try:
        report = analyze_graph(graph, convention=convention, traces=traces)
    except ValueError as exc:  # a network a convention refuses (e.g. 'same' with a stride in PyTorch)
        pytest.skip(f"{convention} refuses {name}: {exc}")
    evaluated = sum(check(r, traces[r.name].steps) for r in report.layers)
    assert evaluated >= len(report.layers)  # the arithmetic of most steps was re-evaluated


def test_one_layer_trace_equals_the_whole_network_trace() -> None:
    graph = parse(CORPUS["uneven"])
    traces: dict[str, Trace] = {}
    analyze_graph(graph, traces=traces)
    for node in graph.nodes:
        one = Trace()
        analyze_graph(graph, trace_layer=node.name, trace=one)
        assert one.steps == traces[node.name].steps


def test_the_evaluator_can_fail() -> None:
    assert _evaluate("floor((224 + 2*0 - 1*(11-1) - 1)/4) + 1") == 54
    assert _evaluate("1 + ceil(213/4)") == 55
    assert _evaluate("96 * 55 * 55") == 290400
    assert _evaluate("max((112-1)*2 + 1*(7-1) + 1 - 224, 0)") == 5
    assert _evaluate("the widest bin has 4") is None
    bad = Step("H", "x", "floor(213/4) + 1", "55")
    with pytest.raises(AssertionError):
        r = analyze("3x224x224 | conv1: conv 96 k11 s4")["conv1"]
        check(r, [bad])


# ----------------------------------------------------------------------------- AlexNet's conv1, the seed question


def _conv1(convention: str | None = None) -> str:
    return explain(EXAMPLES / "alexnet-paper.net", layer="conv1", convention=convention).render()


def test_alexnet_conv1_under_pytorch_rounding() -> None:
    text = _conv1("pytorch")
    assert "H, W = floor((i + 2*p - d*(k-1) - 1)/s) + 1 = floor((224 + 2*0 - 1*(11-1) - 1)/4) + 1 = " \
           "floor(53.25) + 1 = 54" in text
    assert "input pixel 223 is never read" in text
    assert "the last 1 row and column of the input never reach a conv window" in text
    assert "neurons = C * H * W = 96 * 54 * 54 = 279,936" in text
    # the other convention, the 227 input and the padding guesses, each computed
    assert "1 + ceil((224 + 2*0 - 11)/4) = 1 + ceil(213/4) = 1 + ceil(53.25) = 55" in text
    assert "floor((227 + 2*0 - 1*(11-1) - 1)/4) + 1 = floor(54) + 1 = 55" in text
    assert "conv 96 k11 s4 p0+3, 3 pixels of padding per axis" in text
    assert "floor((224 + 0 + 3 - 1*(11-1) - 1)/4) + 1 = floor(54) + 1" in text
    assert "conv 96 k11 s4 p2, 4 pixels of padding per axis" in text


def test_alexnet_conv1_under_cuda_convnet_rounding() -> None:
    text = _conv1()  # the file says: convention cuda-convnet
    assert "convention cuda-convnet" in text
    assert "H, W = 1 + ceil((i + 2*p - k)/s) = 1 + ceil((224 + 2*0 - 11)/4) = 1 + ceil(213/4) = " \
           "1 + ceil(53.25) = 55" in text
    assert "3 past the 224 pixels of the input" in text
    assert "neurons = C * H * W = 96 * 55 * 55 = 290,400" in text
    assert "Rounding down (PyTorch, Caffe, TensorFlow) would give 54x54 here" in text
    assert "a 227x227 input" in text and "p0+3" in text
    assert "params = Cout * (Cin/g) * prod(k) + Cout = 96 * (3/1) * 11*11 + 96 = 34,944" in text


def test_every_warning_says_what_to_change() -> None:
    report = analyze(CORPUS["uneven"])
    warned = [w for _, w in report.warnings if "window" in w]
    assert warned
    for w in warned:
        assert "input" in w and ("padding" in w), w


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_formats(fmt: str) -> None:
    import json

    e = explain(CORPUS["residual-block"])
    out = e.render(fmt)
    if fmt == "json":
        data = json.loads(out)
        assert [x["name"] for x in data["layers"]] == [r.name for r in e.report.layers]
        assert all(x["steps"] for x in data["layers"])
    else:
        assert "sum" in out and "receptive field" in out


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(EXAMPLES / "alexnet-paper.net"), "--layer", "conv1", "-c", "pytorch"]) == 0
    assert "floor(53.25) + 1 = 54" in capsys.readouterr().out
    assert main(["explain", str(EXAMPLES / "alexnet-paper.net"), "--layer", "conv6"]) == 2
    assert "did you mean 'conv5'" in capsys.readouterr().err
