"""MNASNet-B1 (Tan et al., CVPR 2019) as torchvision ships it (``mnasnet.py``), four widths.

The depths ``[32, 16, 24, 40, 80, 96, 192, 320]`` times the width multiplier alpha
are rounded to multiples of 8, up unless that adds more than 10% (torchvision's
``_round_to_multiple_of``: the same rule as MobileNet's ``make_divisible``).
BatchNorm momentum is ``1 - 0.9997`` (TensorFlow's decay 0.9997), kept for the export.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from ._common import BatchNorm, make_divisible, torchvision_source
from .registry import register

__all__: list[str] = []

_DEPTHS = (32, 16, 24, 40, 80, 96, 192, 320)
# Each stack: (kernel, first stride, expansion, repeats), from depth i+1 to depth i+2.
_STACKS = ((3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1))
_BN = BatchNorm(momentum=1 - 0.9997)


def _mnasnet(name: str, alpha: float) -> Graph:
    depths = [make_divisible(d * alpha, 8) for d in _DEPTHS]
    b = Builder("3x224x224", name=name)
    with b.scope("layers"):
        b.conv(depths[0], k=3, s=2, p=1, bias=False, name="0")
        _BN.add(b, "1")
        b.relu(name="2")
        b.conv(depths[0], k=3, p=1, g=depths[0], bias=False, name="3")
        _BN.add(b, "4")
        b.relu(name="5")
        b.conv(depths[1], k=1, bias=False, name="6")
        _BN.add(b, "7")
    for index, (kernel, stride, expansion, repeats) in enumerate(_STACKS):
        cin, cout = depths[index + 1], depths[index + 2]
        for i in range(repeats):
            _inverted_residual(b, f"layers.{8 + index}.{i}", cin if i == 0 else cout, cout, kernel,
                               stride if i == 0 else 1, expansion)
    with b.scope("layers"):
        b.conv(1280, k=1, bias=False, name="14")
        _BN.add(b, "15")
        b.relu(name="16")
    b.globalavgpool(name="globalpool")  # forward's x.mean([2, 3])
    b.flatten(name="flatten")
    b.dropout(0.2, name="classifier.0")
    b.linear(1000, name="classifier.1")
    return b.graph()


def _inverted_residual(b: Builder, name: str, cin: int, cout: int, kernel: int, stride: int,
                       expansion: int) -> None:
    block_input = b.last
    mid = cin * expansion
    with b.scope(name + ".layers"):
        b.conv(mid, k=1, bias=False, name="0")
        _BN.add(b, "1")
        b.relu(name="2")
        b.conv(mid, k=kernel, s=stride, p=kernel // 2, g=mid, bias=False, name="3")
        _BN.add(b, "4")
        b.relu(name="5")
        b.conv(cout, k=1, bias=False, name="6")
        _BN.add(b, "7")
    if cin == cout and stride == 1:
        assert block_input is not None
        b.add(b.last, block_input, name=name)


def _register(suffix: str, alpha: float) -> None:
    name = f"mnasnet{suffix}"
    weights = f"MNASNet{suffix}_Weights.IMAGENET1K_V1"

    @register(name, family="mnasnet", input="3x224x224", source=torchvision_source(name, weights),
              description=f"MNASNet-B1, width {alpha}")
    def build() -> Graph:
        return _mnasnet(name, alpha)


for _suffix, _alpha in (("0_5", 0.5), ("0_75", 0.75), ("1_0", 1.0), ("1_3", 1.3)):
    _register(_suffix, _alpha)
