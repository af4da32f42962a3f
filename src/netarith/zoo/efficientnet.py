"""EfficientNet B0-B7 (Tan & Le, ICML 2019) and EfficientNetV2 S/M/L (Tan & Le, ICML 2021),
as torchvision ships them (``efficientnet.py``).

B1-B7 scale B0's stages: channels by ``width_mult`` (rounded by ``make_divisible`` to
multiples of 8) and repeats by ``depth_mult`` (rounded up). Every block is an MBConv
(expansion, depthwise, squeeze-excite, projection) or, early in V2, a FusedMBConv (one
full convolution in place of expansion and depthwise). A block whose input and output
match adds its input back after stochastic depth, whose probability grows linearly
from 0 to 0.2 over the blocks (identity at inference).
"""

from __future__ import annotations

import math

from .._values import frozen
from ..builder import Builder
from ..graph import Graph
from ._common import BatchNorm, conv_norm_act, make_divisible, squeeze_excite, torchvision_source
from .registry import register

__all__: list[str] = []


@frozen(slots=False)
class _Stage:
    fused: bool
    expand: int
    kernel: int
    stride: int
    cin: int
    cout: int
    repeats: int


def _b_stages(width: float, depth: float) -> list[_Stage]:
    """B0's stages (Tan & Le 2019, Table 1) scaled by width and depth."""
    base = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
            (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))
    return [_Stage(False, e, k, s, make_divisible(i * width, 8), make_divisible(o * width, 8),
                   math.ceil(n * depth)) for e, k, s, i, o, n in base]


# (fused, expansion, kernel, stride, in, out, repeats): torchvision's V2 settings
# (Tan & Le 2021, Table 4 for S; M and L from the authors' code).
_V2 = {
    "s": ((True, 1, 3, 1, 24, 24, 2), (True, 4, 3, 2, 24, 48, 4), (True, 4, 3, 2, 48, 64, 4),
          (False, 4, 3, 2, 64, 128, 6), (False, 6, 3, 1, 128, 160, 9), (False, 6, 3, 2, 160, 256, 15)),
    "m": ((True, 1, 3, 1, 24, 24, 3), (True, 4, 3, 2, 24, 48, 5), (True, 4, 3, 2, 48, 80, 5),
          (False, 4, 3, 2, 80, 160, 7), (False, 6, 3, 1, 160, 176, 14), (False, 6, 3, 2, 176, 304, 18),
          (False, 6, 3, 1, 304, 512, 5)),
    "l": ((True, 1, 3, 1, 32, 32, 4), (True, 4, 3, 2, 32, 64, 7), (True, 4, 3, 2, 64, 96, 7),
          (False, 4, 3, 2, 96, 192, 10), (False, 6, 3, 1, 192, 224, 19), (False, 6, 3, 2, 224, 384, 25),
          (False, 6, 3, 1, 384, 640, 7)),
}


def _efficientnet(name: str, size: int, stages: list[_Stage], dropout: float, bn: BatchNorm,
                  last_channel: int | None) -> Graph:
    b = Builder((3, size, size), name=name)
    conv_norm_act(b, "features.0", stages[0].cin, k=3, s=2, act="silu", bn=bn)
    total = sum(stage.repeats for stage in stages)
    block_id = 0
    for index, stage in enumerate(stages, start=1):
        for i in range(stage.repeats):
            cin = stage.cin if i == 0 else stage.cout
            stride = stage.stride if i == 0 else 1
            # torchvision: stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
            drop = 0.2 * float(block_id) / total
            block_input = b.last
            block = _fused_mbconv if stage.fused else _mbconv
            block(b, f"features.{index}.{i}", cin, stage.cout, stage.expand, stage.kernel, stride, bn)
            if stride == 1 and cin == stage.cout:
                assert block_input is not None
                _residual(b, f"features.{index}.{i}", block_input, drop)
            block_id += 1
    last_in = stages[-1].cout
    conv_norm_act(b, f"features.{len(stages) + 1}", last_channel or 4 * last_in, k=1, act="silu", bn=bn)
    b.globalavgpool(name="avgpool")
    b.flatten(name="flatten")
    b.dropout(dropout, name="classifier.0")
    b.linear(1000, name="classifier.1")
    return b.graph()


def _mbconv(b: Builder, name: str, cin: int, cout: int, expand: int, kernel: int, stride: int,
            bn: BatchNorm) -> None:
    expanded = make_divisible(cin * expand, 8)
    with b.scope(name):
        part = 0
        if expanded != cin:
            conv_norm_act(b, "block.0", expanded, k=1, act="silu", bn=bn)
            part = 1
        last = conv_norm_act(b, f"block.{part}", expanded, k=kernel, s=stride, groups=expanded, act="silu",
                             bn=bn)
        squeeze_excite(b, f"block.{part + 1}", last, expanded, max(1, cin // 4), act="silu")
        conv_norm_act(b, f"block.{part + 2}", cout, k=1, act=None, bn=bn)


def _fused_mbconv(b: Builder, name: str, cin: int, cout: int, expand: int, kernel: int, stride: int,
                  bn: BatchNorm) -> None:
    expanded = make_divisible(cin * expand, 8)
    with b.scope(name):
        if expanded != cin:
            conv_norm_act(b, "block.0", expanded, k=kernel, s=stride, act="silu", bn=bn)
            conv_norm_act(b, "block.1", cout, k=1, act=None, bn=bn)
        else:
            conv_norm_act(b, "block.0", cout, k=kernel, s=stride, act="silu", bn=bn)


def _residual(b: Builder, name: str, block_input: str, drop: float) -> None:
    """Stochastic depth on the block's output, then the block's input added back."""
    b.stochasticdepth(drop, name=f"{name}.stochastic_depth")
    b.add(b.last, block_input, name=name)


# name: (width_mult, depth_mult, crop size, dropout); B5-B7 use TensorFlow's BN settings.
_B = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 288, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}
_V2_RUN = {"s": (384, 0.2), "m": (480, 0.3), "l": (480, 0.4)}


def _register_b(variant: str) -> None:
    width, depth, size, dropout = _B[variant]
    name = f"efficientnet_{variant}"
    weights = f"EfficientNet_{variant.upper()}_Weights.{'IMAGENET1K_V2' if variant == 'b1' else 'IMAGENET1K_V1'}"
    bn = BatchNorm(eps=0.001, momentum=0.01) if variant in ("b5", "b6", "b7") else BatchNorm()

    @register(name, family="efficientnet", input=f"3x{size}x{size}", source=torchvision_source(name, weights),
              description=f"EfficientNet-{variant.upper()}: width x{width}, depth x{depth}, {size}x{size}")
    def build() -> Graph:
        return _efficientnet(name, size, _b_stages(width, depth), dropout, bn, None)


def _register_v2(variant: str) -> None:
    size, dropout = _V2_RUN[variant]
    name = f"efficientnet_v2_{variant}"
    weights = f"EfficientNet_V2_{variant.upper()}_Weights.IMAGENET1K_V1"

    @register(name, family="efficientnet", input=f"3x{size}x{size}", source=torchvision_source(name, weights),
              description=f"EfficientNetV2-{variant.upper()}, {size}x{size}")
    def build() -> Graph:
        stages = [_Stage(*row) for row in _V2[variant]]
        return _efficientnet(name, size, stages, dropout, BatchNorm(eps=1e-3), 1280)


for _variant in _B:
    _register_b(_variant)
for _variant in _V2_RUN:
    _register_v2(_variant)
