"""ShuffleNet V2 (Ma, Zhang, Zheng, Sun, ECCV 2018) as torchvision ships it (``shufflenetv2.py``).

A unit of stride 1 splits the channels in two (``chunk``), transforms one half and
concatenates it back; a unit of stride 2 transforms the whole input on two branches.
Either ends with a channel shuffle of 2 groups. Names follow torchvision's modules;
the operations of ``forward`` are named after its variables (``x1``, ``x2``), ``cat``,
and the unit itself for the shuffle that ends it.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from ._common import torchvision_source
from .registry import register

__all__: list[str] = []

_REPEATS = (4, 8, 4)  # units in stage2, stage3, stage4 (the paper's Table 5)

# Output channels of conv1, stage2..4 and conv5 for each width (Table 5).
_WIDTHS = {
    "x0_5": (24, 48, 96, 192, 1024),
    "x1_0": (24, 116, 232, 464, 1024),
    "x1_5": (24, 176, 352, 704, 1024),
    "x2_0": (24, 244, 488, 976, 2048),
}


def _shufflenet_v2(width: str) -> Graph:
    channels = _WIDTHS[width]
    b = Builder("3x224x224", name=f"shufflenet_v2_{width}")
    with b.scope("conv1"):
        b.conv(channels[0], k=3, s=2, p=1, bias=False, name="0")
        b.bn(name="1")
        b.relu(name="2")
    b.maxpool(3, s=2, p=1, name="maxpool")
    cin = channels[0]
    for stage, (repeats, cout) in enumerate(zip(_REPEATS, channels[1:4]), start=2):
        for i in range(repeats):
            _unit(b, f"stage{stage}.{i}", cin, cout, stride=2 if i == 0 else 1)
            cin = cout
    with b.scope("conv5"):
        b.conv(channels[4], k=1, bias=False, name="0")
        b.bn(name="1")
        b.relu(name="2")
    b.globalavgpool(name="globalpool")  # forward's x.mean([2, 3])
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    return b.graph()


def _unit(b: Builder, name: str, cin: int, cout: int, stride: int) -> None:
    x = b.last
    assert x is not None
    half = cout // 2
    with b.scope(name):
        if stride == 1:
            kept = b.chunk(2, i=0, name="x1", inputs=x)
            x = b.chunk(2, i=1, name="x2", inputs=x)
        else:
            with b.scope("branch1"):
                b.conv(cin, k=3, s=stride, p=1, g=cin, bias=False, name="0", inputs=x)
                b.bn(name="1")
                b.conv(half, k=1, bias=False, name="2")
                b.bn(name="3")
                kept = b.relu(name="4")
        with b.scope("branch2"):
            b.conv(half, k=1, bias=False, name="0", inputs=x)
            b.bn(name="1")
            b.relu(name="2")
            b.conv(half, k=3, s=stride, p=1, g=half, bias=False, name="3")
            b.bn(name="4")
            b.conv(half, k=1, bias=False, name="5")
            b.bn(name="6")
            branch = b.relu(name="7")
        b.concat(kept, branch, name="cat")
    b.shuffle(2, name=name)


def _register(width: str) -> None:
    name = f"shufflenet_v2_{width}"
    weights = f"ShuffleNet_V2_{width.upper()}_Weights.IMAGENET1K_V1"

    @register(name, family="shufflenet", input="3x224x224", source=torchvision_source(name, weights),
              description=f"ShuffleNet V2 {width[1:].replace('_', '.')}x")
    def build() -> Graph:
        return _shufflenet_v2(width)


for _width in _WIDTHS:
    _register(_width)
