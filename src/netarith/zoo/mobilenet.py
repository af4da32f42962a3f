"""MobileNets: V1 as published (Howard et al. 2017), V2 and V3 as torchvision ships them.

* ``mobilenet-v1``: Table 1 of Howard et al., "MobileNets: Efficient Convolutional
  Neural Networks for Mobile Vision Applications", arXiv 1704.04861 (2017): a full
  3x3 convolution, then 13 depthwise separable layers (a 3x3 depthwise and a 1x1
  pointwise convolution, each followed by batch norm and ReLU, section 3.2), average
  pooling and a 1000-way classifier. Trained in TensorFlow (section 3.2), so its
  convolutions are ``same``-padded under the tensorflow convention.
* ``mobilenet_v2``: Sandler et al., CVPR 2018, torchvision ``mobilenetv2.py``.
* ``mobilenet_v3_large`` / ``_small``: Howard et al., ICCV 2019, torchvision
  ``mobilenetv3.py`` (its BatchNorm uses eps 0.001, momentum 0.01).
"""

from __future__ import annotations

from fractions import Fraction

from ..builder import Builder
from ..errors import SpecError
from ..graph import Graph
from ._common import BatchNorm, conv_norm_act, make_divisible, squeeze_excite, torchvision_source
from .registry import register

__all__ = ["mobilenet_v1"]

_V1_PAPER = ("Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam. MobileNets: Efficient "
             "Convolutional Neural Networks for Mobile Vision Applications. arXiv 1704.04861, 2017, Table 1")

# Table 1, after the first convolution: (pointwise output channels, depthwise stride).
# The table prints the last depthwise layer as "Conv dw / s2" on a 7x7 input, but its
# next row's input is still 7x7 and the 7x7 average pool follows: the stride is 1.
_V1_LAYERS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
# The five 14x14x512 layers that section 4.1 removes for the "Shallow MobileNet" of Table 5.
_V1_SHALLOW_CUT = range(6, 11)


def mobilenet_v1(width: float | str = 1, resolution: int = 224, *, shallow: bool = False,
                 separable: bool = True) -> Graph:
    """MobileNet V1 as Table 1 of the paper defines it, with its variants.

    ``width`` is the width multiplier alpha (section 3.3: every layer's channels times
    alpha), ``resolution`` the input size (section 3.4), ``shallow`` drops the five
    14x14x512 layers (Table 5), ``separable=False`` gives the "Conv MobileNet" of
    Table 4, each depthwise separable pair replaced by one full 3x3 convolution.

    >>> from netarith import analyze
    >>> t = analyze(mobilenet_v1()).totals
    >>> t.macs, t.params
    (568740352, 4231976)
    """
    alpha = Fraction(str(width))

    def scaled(channels: int) -> int:
        value = channels * alpha
        if value.denominator != 1 or value < 1:
            raise SpecError(f"width {width}: {channels} channels times {width} is not a whole number")
        return int(value)

    b = Builder((3, resolution, resolution), name="mobilenet-v1", convention="tensorflow")
    b.conv(scaled(32), k=3, s=2, p="same", bias=False, name="conv1")
    b.bn(name="conv1_bn")
    b.relu(name="conv1_relu")
    cin = scaled(32)
    layers = [layer for i, layer in enumerate(_V1_LAYERS) if not (shallow and i in _V1_SHALLOW_CUT)]
    for i, (out, stride) in enumerate(layers, start=1):
        cout = scaled(out)
        if separable:
            b.conv(cin, k=3, s=stride, p="same", g=cin, bias=False, name=f"conv_dw_{i}")
            b.bn(name=f"conv_dw_{i}_bn")
            b.relu(name=f"conv_dw_{i}_relu")
            b.conv(cout, k=1, bias=False, name=f"conv_pw_{i}")
            b.bn(name=f"conv_pw_{i}_bn")
            b.relu(name=f"conv_pw_{i}_relu")
        else:
            b.conv(cout, k=3, s=stride, p="same", bias=False, name=f"conv_{i}")
            b.bn(name=f"conv_{i}_bn")
            b.relu(name=f"conv_{i}_relu")
        cin = cout
    # Table 1's "Avg Pool 7x7" covers the whole 7x7 map at 224: a global average,
    # which the smaller resolutions of Table 7 need too.
    b.globalavgpool(name="pool")
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    b.softmax(name="softmax")
    return b.graph()


@register("mobilenet-v1", family="mobilenet", input="3x224x224", source=_V1_PAPER)
def _mobilenet_v1() -> Graph:
    """MobileNet V1 (1.0 MobileNet-224) as published: 569 million mult-adds, 4.2 million parameters."""
    return mobilenet_v1()


# --------------------------------------------------------------------------- V2

# (expansion t, output channels c, repeats n, first stride s): Sandler et al. Table 2.
_V2_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
               (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


@register("mobilenet_v2", family="mobilenet", input="3x224x224",
          source=torchvision_source("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V2"))
def mobilenet_v2() -> Graph:
    """MobileNet V2 (inverted residuals, linear bottlenecks), width 1.0."""
    b = Builder("3x224x224", name="mobilenet_v2")
    cin = make_divisible(32, 8)
    conv_norm_act(b, "features.0", cin, k=3, s=2, act="relu6")
    index = 1
    for expansion, channels, repeats, first_stride in _V2_SETTING:
        cout = make_divisible(channels, 8)
        for i in range(repeats):
            stride = first_stride if i == 0 else 1
            _v2_block(b, f"features.{index}", cin, cout, stride, expansion)
            cin = cout
            index += 1
    conv_norm_act(b, f"features.{index}", make_divisible(1280, 8), k=1, act="relu6")
    b.globalavgpool(name="avgpool")
    b.flatten(name="flatten")
    b.dropout(0.2, name="classifier.0")
    b.linear(1000, name="classifier.1")
    return b.graph()


def _v2_block(b: Builder, name: str, cin: int, cout: int, stride: int, expansion: int) -> None:
    """An inverted residual: 1x1 expansion (unless t = 1), 3x3 depthwise, linear 1x1."""
    block_input = b.last
    hidden = round(cin * expansion)
    with b.scope(name):
        part = 0
        if expansion != 1:
            conv_norm_act(b, f"conv.{part}", hidden, k=1, act="relu6")
            part += 1
        conv_norm_act(b, f"conv.{part}", hidden, k=3, s=stride, groups=hidden, act="relu6")
        b.conv(cout, k=1, bias=False, name=f"conv.{part + 1}")
        b.bn(name=f"conv.{part + 2}")
    if stride == 1 and cin == cout:
        assert block_input is not None
        b.add(block_input, b.last, name=name)


# --------------------------------------------------------------------------- V3

# (input, kernel, expanded, output, squeeze-excite, activation, stride): Howard et al.
# 2019, Tables 1 and 2, as torchvision's _mobilenet_v3_conf lists them (no dilation).
_V3_LARGE = (
    (16, 3, 16, 16, False, "relu", 1), (16, 3, 64, 24, False, "relu", 2),
    (24, 3, 72, 24, False, "relu", 1), (24, 5, 72, 40, True, "relu", 2),
    (40, 5, 120, 40, True, "relu", 1), (40, 5, 120, 40, True, "relu", 1),
    (40, 3, 240, 80, False, "hardswish", 2), (80, 3, 200, 80, False, "hardswish", 1),
    (80, 3, 184, 80, False, "hardswish", 1), (80, 3, 184, 80, False, "hardswish", 1),
    (80, 3, 480, 112, True, "hardswish", 1), (112, 3, 672, 112, True, "hardswish", 1),
    (112, 5, 672, 160, True, "hardswish", 2), (160, 5, 960, 160, True, "hardswish", 1),
    (160, 5, 960, 160, True, "hardswish", 1),
)
_V3_SMALL = (
    (16, 3, 16, 16, True, "relu", 2), (16, 3, 72, 24, False, "relu", 2),
    (24, 3, 88, 24, False, "relu", 1), (24, 5, 96, 40, True, "hardswish", 2),
    (40, 5, 240, 40, True, "hardswish", 1), (40, 5, 240, 40, True, "hardswish", 1),
    (40, 5, 120, 48, True, "hardswish", 1), (48, 5, 144, 48, True, "hardswish", 1),
    (48, 5, 288, 96, True, "hardswish", 2), (96, 5, 576, 96, True, "hardswish", 1),
    (96, 5, 576, 96, True, "hardswish", 1),
)
_V3_BN = BatchNorm(eps=0.001, momentum=0.01)


@register("mobilenet_v3_large", family="mobilenet", input="3x224x224",
          source=torchvision_source("mobilenet_v3_large", "MobileNet_V3_Large_Weights.IMAGENET1K_V2"))
def mobilenet_v3_large() -> Graph:
    """MobileNet V3-Large, width 1.0."""
    return _mobilenet_v3("mobilenet_v3_large", _V3_LARGE, last_channel=1280)


@register("mobilenet_v3_small", family="mobilenet", input="3x224x224",
          source=torchvision_source("mobilenet_v3_small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1"))
def mobilenet_v3_small() -> Graph:
    """MobileNet V3-Small, width 1.0."""
    return _mobilenet_v3("mobilenet_v3_small", _V3_SMALL, last_channel=1024)


def _mobilenet_v3(name: str, setting: tuple[tuple[int, int, int, int, bool, str, int], ...],
                  last_channel: int) -> Graph:
    b = Builder("3x224x224", name=name)
    conv_norm_act(b, "features.0", make_divisible(setting[0][0], 8), k=3, s=2, act="hardswish", bn=_V3_BN)
    for index, (cin, kernel, expanded, cout, se, act, stride) in enumerate(setting, start=1):
        _v3_block(b, f"features.{index}", make_divisible(cin, 8), kernel, make_divisible(expanded, 8),
                  make_divisible(cout, 8), se, act, stride)
    last = make_divisible(setting[-1][3], 8)
    conv_norm_act(b, f"features.{len(setting) + 1}", 6 * last, k=1, act="hardswish", bn=_V3_BN)
    b.globalavgpool(name="avgpool")
    b.flatten(name="flatten")
    b.linear(make_divisible(last_channel, 8), name="classifier.0")
    b.hardswish(name="classifier.1")
    b.dropout(0.2, name="classifier.2")
    b.linear(1000, name="classifier.3")
    return b.graph()


def _v3_block(b: Builder, name: str, cin: int, kernel: int, expanded: int, cout: int, se: bool,
              act: str, stride: int) -> None:
    """Expansion (when it widens), depthwise, optional squeeze-excite, linear projection."""
    block_input = b.last
    with b.scope(name):
        part = 0
        if expanded != cin:
            conv_norm_act(b, f"block.{part}", expanded, k=1, act=act, bn=_V3_BN)
            part += 1
        last = conv_norm_act(b, f"block.{part}", expanded, k=kernel, s=stride, groups=expanded, act=act,
                             bn=_V3_BN)
        part += 1
        if se:
            squeeze_excite(b, f"block.{part}", last, expanded, make_divisible(expanded // 4, 8),
                           gate="hardsigmoid")
            part += 1
        conv_norm_act(b, f"block.{part}", cout, k=1, act=None, bn=_V3_BN)
    if stride == 1 and cin == cout:
        assert block_input is not None
        b.add(block_input, b.last, name=name)
