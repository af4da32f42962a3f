"""LeNet-5 as published: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning
Applied to Document Recognition", Proc. IEEE 86(11), 1998, section II.B and Table I.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from ..ops.conv import connection_table
from .registry import register


def _c3_table() -> list[list[int]]:
    """Table I: which of S2's 6 maps each of C3's 16 maps sees. Maps 0-5 take 3
    contiguous maps, 6-11 take 4 contiguous ones, 12-14 four non-contiguous ones,
    and 15 all six (contiguous wraps around: map 4 sees S2 maps 4, 5 and 0)."""
    contiguous = [[(start + i) % 6 for i in range(width)] for width in (3, 4) for start in range(6)]
    split = [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
    return [sorted(row) for row in contiguous] + split + [list(range(6))]


@register("lenet5", family="lenet", input="1x32x32",
          source="LeCun, Bottou, Bengio, Haffner. Gradient-Based Learning Applied to Document "
                 "Recognition. Proc. IEEE 1998, section II.B, Table I")
def lenet5() -> Graph:
    """LeNet-5: C1 (6@28x28), S2, C3 through Table I's partial connections (16@10x10), S4,
    C5 (120), F6 (84), and 10 Euclidean RBF output units whose 840 weights are fixed
    +1/-1 codes, not trained. Every unit up to F6 is squashed by a scaled tanh
    (A tanh(S a), A = 1.7159, written here as tanh: the scale counts nothing).
    Trainable parameters: 60,000; connections: 340,908."""
    b = Builder("1x32x32", name="lenet5")
    b.conv(6, k=5, name="C1")
    b.tanh()
    b.subsample(2, name="S2")
    b.tanh()
    b.tableconv(16, k=5, table=connection_table(_c3_table()), name="C3")
    b.tanh()
    b.subsample(2, name="S4")
    b.tanh()
    b.conv(120, k=5, name="C5")
    b.tanh()
    b.flatten()
    b.linear(84, name="F6")
    b.tanh()
    b.rbf(10, trainable=False, name="OUTPUT")
    return b.graph()
