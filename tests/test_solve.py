"""The inverse questions: every answer is fed back into the analysis (or into PyTorch) and must
give what was asked; and nothing the analysis would accept in the searched range is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netarith import analyze
from netarith.analyze import analyze_graph
from netarith.cli import main
from netarith.errors import NetarithError, ShapeError, SpecError
from netarith.solve import input_sizes, linear, output_padding, padding
from netarith.sources import load

EXAMPLES = Path(__file__).parent.parent / "examples"
ALEXNET = EXAMPLES / "alexnet-paper.net"


def _conv_out(i: int, k: int, s: int, d: int, pl: int, pr: int, convention: str, same: bool = False) -> int | None:
    pad = "same" if same else f"p{pl}+{pr}"
    try:
        return analyze(f"1x{i} | c: conv 1 k{k} s{s} d{d} {pad}", convention=convention)["c"].shape.dims[1]
    except ShapeError:
        return None


def _pool_out(i: int, k: int, s: int, p: int, rounding: str, convention: str) -> int | None:
    try:
        report = analyze(f"1x{i} | c: maxpool k{k} s{s} p{p} {rounding}".rstrip(), convention=convention)
        return report["c"].shape.dims[1]
    except ShapeError:
        return None


def test_padding_224_to_112() -> None:
    found = padding(224, 112, 7, 2)
    pytorch = [s for s in found if "pytorch" in s.frameworks]
    assert (pytorch[0].pad_before, pytorch[0].pad_after) == (3, 3)  # what torchvision's ResNet writes
    same = [s for s in found if s.rounding == "same"]
    assert [(s.pad_before, s.pad_after) for s in same] == [(2, 3)]  # TF SAME: the odd pixel at the end
    cuda = [s for s in found if "cuda-convnet" in s.frameworks]
    assert (cuda[0].pad_before, cuda[0].overhang) == (2, 1)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 40), st.integers(1, 6), st.integers(1, 4), st.sampled_from([1, 1, 2]), st.integers(0, 3))
def test_every_padding_gives_the_size_and_none_is_missing(i: int, k: int, s: int, d: int, p: int) -> None:
    target = _conv_out(i, k, s, d, p, p, "pytorch")
    if target is None:
        return
    found = padding(i, target, k, s, d)
    for sol in found:
        for fw in sol.frameworks:
            got = _conv_out(i, k, s, d, sol.pad_before, sol.pad_after, fw, same=sol.rounding == "same")
            assert got == target, (sol, fw)
    floor = {(x.pad_before, x.pad_after) for x in found if x.rounding == "floor"}
    limit = max(d * (k - 1) + 1, s)
    for pl in range(limit + 1):
        for pr in range(limit + 1):
            if _conv_out(i, k, s, d, pl, pr, "pytorch") == target:
                assert (pl, pr) in floor, (pl, pr)
    assert found == sorted(found, key=lambda x: (not x.exact, not x.symmetric, x.pad_before + x.pad_after,
                                                 abs(x.pad_before - x.pad_after), x.pad_before > x.pad_after,
                                                 {"floor": 0, "same": 1, "ceil": 2}[x.rounding]))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.booleans())
def test_pool_paddings_give_the_size(i: int, k: int, s: int, p: int, ceil: bool) -> None:
    p = min(p, k // 2)
    target = _pool_out(i, k, s, p, "ceil" if ceil else "floor", "pytorch")
    if target is None:
        return
    for sol in padding(i, target, k, s, pool=True):
        if sol.rounding == "same":
            continue
        assert sol.symmetric
        for fw in sol.frameworks:
            rounding = "floor" if sol.rounding == "floor" else "ceil"
            assert _pool_out(i, k, s, sol.pad_before, rounding, fw) == target, (sol, fw)


def test_output_padding_16_to_32() -> None:
    a = output_padding(16, 32, 3, 2, 1)
    assert a.output_padding == 1
    assert a.preimages == (31, 32)  # the convolution k3 s2 p1 maps both to 16
    out = analyze("1x16 | t: convT 1 k3 s2 p1 op1")["t"].shape.dims[1]
    assert out == 32


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(1, 60))
def test_output_padding_round_trips(i: int, k: int, s: int, p: int, d: int, out: int) -> None:
    a = output_padding(i, out, k, s, p, d)

    def run(pad: int, op: int) -> int | None:
        try:
            return analyze(f"1x{i} | t: convT 1 k{k} s{s} p{pad} op{op} d{d}")["t"].shape.dims[1]
        except ShapeError:
            return None

    if a.output_padding is not None:
        assert run(p, a.output_padding) == out
    else:
        assert all(run(p, op) != out for op in range(max(s, d)))
    for pad, op in a.alternatives:
        assert run(pad, op) == out
    for size in a.preimages:
        assert analyze(f"1x{size} | c: conv 1 k{k} s{s} p{p} d{d}")["c"].shape.dims[1] == i


def test_input_sizes_for_alexnet_pool5() -> None:
    a = input_sizes(ALEXNET, "pool5", 6, convention="pytorch", range=(200, 280))
    assert a.runs("H") == [(227, 258)] and a.exact["H"] == (227,)
    graph = load(ALEXNET)
    for size, want in ((226, False), (227, True), (258, True), (259, False)):
        got = analyze_graph(graph.with_input((3, size, size)), convention="pytorch")["pool5"].shape.dims[1]
        assert (got == 6) == want


def test_input_sizes_per_axis_and_errors() -> None:
    a = input_sizes("3x64x48 | c: conv 4 k3 s2 | p: maxpool 2", "p", "7x5", range=(1, 80))
    for h in a.sizes["H"]:
        assert analyze("3x64x48 | c: conv 4 k3 s2 | p: maxpool 2", input=f"3x{h}x48")["p"].shape.dims[1] == 7
    for w in a.sizes["W"]:
        assert analyze("3x64x48 | c: conv 4 k3 s2 | p: maxpool 2", input=f"3x64x{w}")["p"].shape.dims[2] == 5
    with pytest.raises(SpecError):
        input_sizes("3x64x48 | c: conv 4 k3 s2", "c", "7x5x3")
    with pytest.raises(NetarithError):
        input_sizes("3x64x48 | c: conv 4 k3 s2", "nope", 7)


def test_linear_in_features() -> None:
    found = {a.layer: a for a in linear(ALEXNET)}
    assert found["fc6"].in_features == 256 * 6 * 6 and found["fc6"].source == "flatten_1"
    assert found["fc6"].torch == "nn.Linear(9216, 4096, bias=True)"
    assert found["fc6"].closed_form == "256*floor((H - 4)/32)*floor((W - 4)/32)"  # cuda-convnet's rounding
    assert found["fc7"].in_features == 4096
    with pytest.raises(NetarithError):
        linear("3x8x8 | conv 4 k3")


@pytest.mark.torch
def test_linear_in_features_against_pytorch(torch: object) -> None:
    import torch as t

    from netarith import to_torch

    graph = load(ALEXNET).with_input((3, 227, 227))
    fc6 = next(a for a in linear(graph, convention="pytorch") if a.layer == "fc6")
    module = to_torch(graph, convention="pytorch").eval()
    seen: list[int] = []  # what PyTorch itself feeds each Linear, computed by its own layers
    for m in module.modules():
        if isinstance(m, t.nn.Linear):
            m.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[-1]))
    with t.no_grad():
        module(t.zeros(1, 3, 227, 227))
    assert seen[0] == fc6.in_features == 9216


# ----------------------------------------------------------------------------- the command line


def test_cli_solvers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "padding", "--in", "224", "--out", "112", "--kernel", "7", "--stride", "2"]) == 0
    out = capsys.readouterr().out
    assert "pytorch: padding=3" in out and "padding='SAME' (2 before, 3 after)" in out
    assert main(["solve", "output-padding", "--in", "16", "--out", "32", "--kernel", "3", "--stride", "2",
                 "--padding", "1"]) == 0
    assert "output_padding = 32 - 31 = 1" in capsys.readouterr().out
    assert main(["solve", "input", str(ALEXNET), "--layer", "pool5", "--out", "6", "-c", "pytorch"]) == 0
    assert "227..258" in capsys.readouterr().out
    assert main(["solve", "linear", str(ALEXNET)]) == 0
    assert "nn.Linear(9216, 4096, bias=True)" in capsys.readouterr().out
    assert main(["solve", "error", "mat1 and mat2 shapes cannot be multiplied (2x1568 and 1050x10)"]) == 0
    out = capsys.readouterr().out
    assert "nn.Linear(1568, 10)" in out and "2 rows of 1568" in out
    assert main(["solve", "error", "something else entirely"]) == 2
    assert main(["solve", "padding", "--in", "0", "--out", "1", "--kernel", "3"]) == 2
    assert main(["solve", "padding", "--in", "10", "--out", "1", "--kernel", "3", "--format", "json"]) == 0
