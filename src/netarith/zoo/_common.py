"""Building blocks the mobile-era zoo families share (torchvision's ``ops.misc`` shapes).

Naming: a layer is named by the PyTorch module that holds it
(``features.3.block.0.0``), so a state-dict key minus ``.weight`` names its
layer (a bare parameter names its own layer: ConvNeXt's ``features.1.0.layer_scale``).
Operations torchvision writes in ``forward`` rather than as modules (a residual
sum, the squeeze-excite product) are named by the module whose output they are:
``features.3`` is the sum ending block 3, ``features.3.block.2`` the product
ending its squeeze-excite. The others are named inside their module after what
``forward`` calls them (RegNet's ``...block1-0.add`` before the block's ReLU,
ShuffleNet's ``x1``, ``x2`` and ``cat``), or at the top level after the call
(``avgpool``, ``flatten``; ``globalpool`` for ``x.mean([2, 3])``).
"""

from __future__ import annotations

from .._values import frozen
from ..builder import Builder

__all__ = ["BatchNorm", "conv_norm_act", "make_divisible", "squeeze_excite", "torchvision_source"]

#: torchvision release whose model code and weights metadata the zoo follows.
TORCHVISION = "torchvision 0.29"


def torchvision_source(module: str, weights: str) -> str:
    """The ``source`` of a torchvision model: where its structure and its figures come from."""
    return f"{TORCHVISION}: torchvision.models.{module}, weights {weights}"


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """The nearest multiple of ``divisor`` (ties up), at least ``min_value`` (default:
    the divisor), and never more than 10% below ``value`` (then one multiple more).

    The rounding of TensorFlow's slim MobileNet, which torchvision keeps in
    ``models/_utils.py`` for MobileNet V2/V3, EfficientNet and RegNet. ``value`` is a
    float product (``channels * width_mult``): the same float operations give the same
    channels.

    >>> make_divisible(32 * 0.75, 8), make_divisible(83, 8), make_divisible(11, 8)
    (24, 80, 16)
    """
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


@frozen(slots=False)
class BatchNorm:
    """The BatchNorm2d settings of a model (they matter to the PyTorch export only)."""

    eps: float = 1e-5
    momentum: float = 0.1

    def add(self, b: Builder, name: str) -> str:
        kwargs: dict[str, float] = {}
        if self.eps != 1e-5:
            kwargs["eps"] = self.eps
        if self.momentum != 0.1:
            kwargs["momentum"] = self.momentum
        return b.bn(name=name, **kwargs)


def conv_norm_act(b: Builder, name: str, out: int, k: int = 3, s: int = 1, groups: int = 1,
                  act: str | None = "relu", bn: BatchNorm | None = None, inputs: str | None = None) -> str:
    """torchvision's ``Conv2dNormActivation``: ``name.0`` a convolution padded to keep
    ``ceil(size / s)``, ``name.1`` its BatchNorm (so no bias), ``name.2`` the activation."""
    with b.scope(name):
        b.conv(out, k=k, s=s, p=(k - 1) // 2, g=groups, bias=False, name="0", inputs=inputs)
        last = (bn or BatchNorm()).add(b, "1")
        if act is not None:
            last = b.layer(act, name="2")
    return last


def squeeze_excite(b: Builder, name: str, x: str, channels: int, squeeze: int, act: str = "relu",
                   gate: str = "sigmoid") -> str:
    """torchvision's ``SqueezeExcitation`` (Hu et al., CVPR 2018, Fig. 1) on ``x`` of
    ``channels`` channels: average over the positions, two 1x1 convolutions (channels
    -> ``squeeze`` -> channels), a gate, and the product of ``x`` with the gate,
    broadcast over the positions; the product is named ``name``."""
    with b.scope(name):
        b.globalavgpool(name="avgpool", inputs=x)
        b.conv(squeeze, k=1, name="fc1")
        b.layer(act, name="activation")
        b.conv(channels, k=1, name="fc2")
        gate_name = b.layer(gate, name="scale_activation")
    return b.mul(x, gate_name, name=name)
