"""Connections, LeNet-5's count: every multiply or fixed link into a unit, plus its bias.

The oracle is LeCun et al. 1998, section II.B (per-layer figures as quoted in
reference/published-figures.md): C1 122,304; S2 5,880; C3 151,600 (with its partial
connection table, Table I); S4 2,000; C5 48,120; F6 10,164; the output's 840 links; 340,908 in all.
"""

from __future__ import annotations

import math
from itertools import accumulate

import pytest

from netarith import analyze, zoo

LENET_LIKE = """
input 1x32x32
C1: conv 6 k5
tanh
S2: avgpool 2
S2b: scale bias
tanh
C3: conv 16 k5
tanh
S4: avgpool 2
S4b: scale bias
tanh
C5: conv 120 k5
tanh
flatten
F6: linear 84
tanh
OUT: linear 10 nobias
"""

PAPER = {"C1": 122_304, "S2": 5_880, "C3": 151_600, "S4": 2_000, "C5": 48_120, "F6": 10_164, "OUT": 840}


def test_lenet_layers_we_can_write_have_the_papers_counts() -> None:
    r = analyze(LENET_LIKE)
    # subsampling as LeNet defines it: the sum of 4 inputs times a coefficient, plus a bias
    assert r["S2"].connections + r["S2b"].connections == PAPER["S2"]
    assert r["S4"].connections + r["S4b"].connections == PAPER["S4"]
    for name in ("C1", "C5", "F6", "OUT"):
        assert r[name].connections == PAPER[name], name
    # C3 here is fully connected: 16 maps of 10x10, each unit 6*25 weights + 1 bias (the paper's table has fewer)
    assert r["C3"].connections == 16 * 10 * 10 * (6 * 25 + 1)
    assert r.totals.connections == sum(x.connections for x in r.layers)
    assert sum(x.connections for x in r.layers if x.kind == "tanh") == 0
    assert r["C1"].params == 156 and r["S2b"].params == 12 and r["F6"].params == 10_164  # the paper's too


def test_lenet5_in_the_zoo() -> None:
    if not zoo.exists("lenet5"):
        pytest.skip("lenet5 is not in the zoo (yet)")
    r = analyze("lenet5")
    assert r.totals.connections == 340_908
    # each layer of the paper, in order, is one zoo layer or a run of consecutive ones
    targets = list(accumulate(PAPER.values()))
    running = list(accumulate(x.connections for x in r.layers))
    assert all(t in running for t in targets), (targets, running)


def _adaptive_links(size: int, out: int) -> int:
    return sum(math.ceil((j + 1) * size / out) - (j * size) // out for j in range(out))


@pytest.mark.parametrize("rank", [1, 2])
def test_connections_per_op(rank: int) -> None:
    shape = "4x" + "x".join(["13"] * rank)
    text = f"""input {shape}
c: conv 6 k3 s2 p1 g2
cn: conv 6 k1 nobias
bn1: bn
mp: maxpool k3 s2 ceil
ap: avgpool k2 p1
lrn1: lrn 3
up: upsample 2 {'linear' if rank == 1 else 'bilinear'}
a: add up up
m: mul a up
cat: concat a m
ad: adaptiveavgpool 5
g: globalmaxpool <- cat
relu
flatten
fc: linear 7
"""
    r = analyze(text)
    per = {x.name: x for x in r.layers}
    c = per["c"]
    assert c.connections == c.shape.numel * ((4 // 2) * 3 ** rank + 1)
    assert per["cn"].connections == per["cn"].macs  # no bias: one link per weight
    assert per["bn1"].connections == per["bn1"].shape.numel  # its shift, one per output
    for name, k in (("mp", 3), ("ap", 2)):
        assert per[name].connections == per[name].shape.numel * k ** rank
    assert per["lrn1"].connections == 3 * per["lrn1"].shape.numel
    assert per["up"].connections == 2 ** rank * per["up"].shape.numel
    assert per["a"].connections == 2 * per["a"].shape.numel and per["m"].connections == 2 * per["m"].shape.numel
    assert per["cat"].connections == 0 and per["relu_1"].connections == 0 and per["flatten_1"].connections == 0
    size = per["cat"].shape.spatial[0]
    assert per["ad"].connections == per["cat"].shape.channels * _adaptive_links(size, 5) ** rank
    assert per["g"].connections == per["cat"].shape.numel
    assert per["fc"].connections == per["fc"].macs + 7
    assert r.to_dict()["totals"]["connections"] == sum(x.connections for x in r.layers)


def test_adaptive_bin_total_by_enumeration() -> None:
    from netarith.arith import adaptive_bin_total

    for size in range(1, 50):
        for out in range(1, 50):
            assert adaptive_bin_total(size, out) == _adaptive_links(size, out), (size, out)
