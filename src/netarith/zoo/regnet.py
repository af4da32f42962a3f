"""RegNetX and RegNetY (Radosavovic et al., "Designing Network Design Spaces", CVPR 2020)
as torchvision ships them (``regnet.py``): all 15 models.

A RegNet is given by a depth ``d``, an initial width ``w_0``, a slope ``w_a``, a
log-step ``w_m`` and a group width ``g`` (section 3.3 of the paper). Block ``j`` has
the continuous width ``u_j = w_0 + w_a * j``; it is quantized in log space,
``s_j = round(log(u_j / w_0) / log(w_m))`` and ``w_j = 8 * round(w_0 * w_m**s_j / 8)``;
consecutive blocks of equal width form a stage. torchvision does this arithmetic on
float32 tensors, so :func:`block_widths` repeats it step by step in float32 (each
operation rounded to the nearest float32, as IEEE arithmetic does), in pure Python.
A different rounding could move a width across a multiple of 8.
"""

from __future__ import annotations

import math
import struct

from .._values import frozen
from ..builder import Builder
from ..graph import Graph
from ._common import make_divisible, squeeze_excite, torchvision_source
from .registry import register

__all__ = ["RegNetParams", "block_widths", "stages"]


def _f32(x: float) -> float:
    """``x`` rounded to the nearest float32 (ties to even), as a Python float."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def block_widths(depth: int, w_0: int, w_a: float, w_m: float, quantum: int = 8) -> list[int]:
    """Each block's width, computed as torchvision's ``BlockParams.from_init_params`` does
    with float32 tensors: ``arange(depth) * w_a + w_0``, ``round(log(u / w_0) / log(w_m))``,
    ``round(w_0 * w_m**s / 8) * 8`` (``torch.round`` rounds ties to even, as ``round`` does).

    Each float32 operation is one double-precision operation rounded to float32: exact
    for ``+ * /`` (a double holds more than twice float32's 24 bits), correctly rounded
    for ``log`` and ``pow``.

    >>> block_widths(16, 48, 27.89, 2.09)  # regnet_y_400mf
    [48, 104, 104, 104, 208, 208, 208, 208, 208, 208, 440, 440, 440, 440, 440, 440]
    """
    a, w0, log_m, m = _f32(w_a), _f32(w_0), _f32(math.log(w_m)), _f32(w_m)
    widths = []
    for j in range(depth):
        u = _f32(_f32(j * a) + w0)
        capacity = round(_f32(_f32(math.log(_f32(u / w0))) / log_m))
        scaled = _f32(w0 * _f32(m ** capacity))
        widths.append(round(_f32(scaled / quantum)) * quantum)
    return widths


@frozen(slots=False)
class RegNetParams:
    """A RegNet's design parameters (torchvision's ``from_init_params`` arguments)."""

    depth: int
    w_0: int
    w_a: float
    w_m: float
    group_width: int
    se_ratio: float | None = None


@frozen(slots=False)
class Stage:
    width: int
    depth: int
    group_width: int


def stages(params: RegNetParams) -> list[Stage]:
    """Stages from block widths: a new stage wherever the width changes; then each
    stage's group width is capped by its width and its width made a multiple of its
    group width (torchvision's ``_adjust_widths_groups_compatibilty``, bottleneck 1).

    >>> [(s.width, s.depth, s.group_width) for s in stages(RegNetParams(16, 48, 27.89, 2.09, 8))]
    [(48, 1, 8), (104, 3, 8), (208, 6, 8), (440, 6, 8)]
    """
    widths = block_widths(params.depth, params.w_0, params.w_a, params.w_m)
    runs: list[list[int]] = []
    for w in widths:
        if runs and runs[-1][0] == w:
            runs[-1][1] += 1
        else:
            runs.append([w, 1])
    out = []
    for width, depth in runs:
        group = min(params.group_width, width)
        out.append(Stage(make_divisible(width, group), depth, group))
    return out


# torchvision's regnet_* builders (the paper's Appendix, Tables of RegNetX/RegNetY models).
_MODELS: dict[str, RegNetParams] = {
    "regnet_y_400mf": RegNetParams(16, 48, 27.89, 2.09, 8, 0.25),
    "regnet_y_800mf": RegNetParams(14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": RegNetParams(27, 48, 20.71, 2.65, 24, 0.25),
    "regnet_y_3_2gf": RegNetParams(21, 80, 42.63, 2.66, 24, 0.25),
    "regnet_y_8gf": RegNetParams(17, 192, 76.82, 2.19, 56, 0.25),
    "regnet_y_16gf": RegNetParams(18, 200, 106.23, 2.48, 112, 0.25),
    "regnet_y_32gf": RegNetParams(20, 232, 115.89, 2.53, 232, 0.25),
    "regnet_y_128gf": RegNetParams(27, 456, 160.83, 2.52, 264, 0.25),
    "regnet_x_400mf": RegNetParams(22, 24, 24.48, 2.54, 16),
    "regnet_x_800mf": RegNetParams(16, 56, 35.73, 2.28, 16),
    "regnet_x_1_6gf": RegNetParams(18, 80, 34.01, 2.25, 24),
    "regnet_x_3_2gf": RegNetParams(25, 88, 26.31, 2.25, 48),
    "regnet_x_8gf": RegNetParams(23, 80, 49.56, 2.88, 120),
    "regnet_x_16gf": RegNetParams(22, 216, 55.59, 2.1, 128),
    "regnet_x_32gf": RegNetParams(23, 320, 69.86, 2.0, 168),
}
# The default weights: SWAG end-to-end at 384 for 128GF (its only weights are SWAG), else 224.
_DEFAULT_WEIGHTS = {"regnet_y_128gf": ("IMAGENET1K_SWAG_E2E_V1", 384)}


def _regnet(name: str, params: RegNetParams, size: int) -> Graph:
    b = Builder((3, size, size), name=name)
    with b.scope("stem"):
        b.conv(32, k=3, s=2, p=1, bias=False, name="0")
        b.bn(name="1")
        b.relu(name="2")
    cin = 32
    for i, stage in enumerate(stages(params), start=1):
        for j in range(stage.depth):
            _block(b, f"trunk_output.block{i}.block{i}-{j}", cin, stage.width, 2 if j == 0 else 1,
                   stage.group_width, params.se_ratio)
            cin = stage.width
    b.globalavgpool(name="avgpool")
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    return b.graph()


def _block(b: Builder, name: str, cin: int, cout: int, stride: int, group_width: int,
           se_ratio: float | None) -> None:
    """ResBottleneckBlock: 1x1, grouped 3x3 (stride here), [squeeze-excite], 1x1; a
    projection shortcut when the shape changes; ReLU after the sum."""
    x = b.last
    assert x is not None
    groups = cout // group_width
    with b.scope(name):
        shortcut = x
        if cin != cout or stride != 1:
            b.conv(cout, k=1, s=stride, bias=False, name="proj.0", inputs=x)
            shortcut = b.bn(name="proj.1")
        b.conv(cout, k=1, bias=False, name="f.a.0", inputs=x)
        b.bn(name="f.a.1")
        b.relu(name="f.a.2")
        b.conv(cout, k=3, s=stride, p=1, g=groups, bias=False, name="f.b.0")
        b.bn(name="f.b.1")
        last = b.relu(name="f.b.2")
        if se_ratio:
            squeeze_excite(b, "f.se", last, cout, round(se_ratio * cin))
        b.conv(cout, k=1, bias=False, name="f.c.0")
        b.bn(name="f.c.1")
        b.add(shortcut, b.last, name="add")
        b.relu(name="activation")


def _register(name: str, params: RegNetParams) -> None:
    weights, size = _DEFAULT_WEIGHTS.get(name, ("IMAGENET1K_V2", 224))
    family = "RegNetY" if params.se_ratio else "RegNetX"
    title = name.split("_", 2)[2].upper().replace("_", ".")

    @register(name, family="regnet", input=f"3x{size}x{size}",
              source=torchvision_source(name, f"RegNet{name[6:].upper()}_Weights.{weights}"),
              description=f"{family}-{title}")
    def build() -> Graph:
        return _regnet(name, params, size)


for _name, _params in _MODELS.items():
    _register(_name, _params)
