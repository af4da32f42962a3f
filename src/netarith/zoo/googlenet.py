"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015,
as published (the BVLC Caffe model) and as torchvision ships it.

The nine inception modules share one table (Table 1 of the paper). torchvision's
differ from the paper in three ways: batch normalisation after every convolution,
a 3x3 convolution where the paper's "5x5" branch has 5x5 (a known quirk of the
ported weights), and a 2x2 fourth max pooling. torchvision's weights model has no
auxiliary classifiers (they are dropped when the weights load), and its input
transform (a per-channel affine map) has no parameters and no MACs, so it is left out.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = "Szegedy et al. Going Deeper with Convolutions. CVPR 2015"
#: Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, per module.
_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
_POOL_AFTER = {"3b": 3, "4e": 4}  # max pooling (stride 2) after these modules


def _basic_conv(b: Builder, out: int, k: int, *, p: int = 0, s: int = 1, inputs: str | None = None) -> str:
    """torchvision's BasicConv2d, in the current scope: conv (no bias), bn (eps 0.001), relu."""
    b.conv(out, k=k, s=s, p=p, bias=False, name="conv", inputs=inputs)
    b.bn(eps=0.001, name="bn")
    return b.relu(name="relu")


def _torchvision_module(b: Builder, x: str, name: str) -> str:
    ch1, red3, ch3, red5, ch5, proj = _MODULES[name]
    branches = []
    with b.scope(f"inception{name}"):
        with b.scope("branch1"):
            branches.append(_basic_conv(b, ch1, 1, inputs=x))
        for branch, (reduce, out) in (("branch2", (red3, ch3)), ("branch3", (red5, ch5))):
            with b.scope(f"{branch}.0"):
                _basic_conv(b, reduce, 1, inputs=x)
            with b.scope(f"{branch}.1"):
                branches.append(_basic_conv(b, out, 3, p=1))  # 3x3 in both branches (see above)
        b.maxpool(3, s=1, p=1, rounding="ceil", inputs=x, name="branch4.0")
        with b.scope("branch4.1"):
            branches.append(_basic_conv(b, proj, 1))
        return b.concat(*branches, name="cat")


@register("googlenet", family="googlenet", input="3x224x224",
          source=f"torchvision 0.29 models.googlenet, weights model without auxiliary heads ({_PAPER})")
def googlenet() -> Graph:
    """torchvision's GoogLeNet as its ImageNet weights load it: no auxiliary classifiers."""
    b = Builder("3x224x224", name="googlenet")
    with b.scope("conv1"):
        _basic_conv(b, 64, 7, s=2, p=3)
    x = b.maxpool(3, s=2, rounding="ceil", name="maxpool1")
    with b.scope("conv2"):
        _basic_conv(b, 64, 1)
    with b.scope("conv3"):
        _basic_conv(b, 192, 3, p=1)
    x = b.maxpool(3, s=2, rounding="ceil", name="maxpool2")
    for name in _MODULES:
        x = _torchvision_module(b, x, name)
        if name in _POOL_AFTER:
            k = 2 if name == "4e" else 3
            x = b.maxpool(k, s=2, rounding="ceil", name=f"maxpool{_POOL_AFTER[name]}")
    b.adaptiveavgpool(1, name="avgpool")
    b.flatten(name="flatten")
    b.dropout(0.2, name="dropout")
    b.linear(1000, name="fc")
    return b.graph()


def _caffe_conv(b: Builder, name: str, out: int, k: int, *, p: int = 0, s: int = 1,
                inputs: str | None = None) -> str:
    """A Caffe convolution and its ReLU, named as in the BVLC files: 'x/3x3' and 'x/relu_3x3'."""
    scope, _, what = name.rpartition("/")
    b.conv(out, k=k, s=s, p=p, name=name, inputs=inputs)
    return b.relu(name=f"{scope}/relu_{what}")


def _paper_module(b: Builder, x: str, name: str) -> str:
    ch1, red3, ch3, red5, ch5, proj = _MODULES[name]
    m = f"inception_{name}"
    branches = [_caffe_conv(b, f"{m}/1x1", ch1, 1, inputs=x)]
    _caffe_conv(b, f"{m}/3x3_reduce", red3, 1, inputs=x)
    branches.append(_caffe_conv(b, f"{m}/3x3", ch3, 3, p=1))
    _caffe_conv(b, f"{m}/5x5_reduce", red5, 1, inputs=x)
    branches.append(_caffe_conv(b, f"{m}/5x5", ch5, 5, p=2))
    b.maxpool(3, s=1, p=1, inputs=x, name=f"{m}/pool")
    branches.append(_caffe_conv(b, f"{m}/pool_proj", proj, 1))
    return b.concat(*branches, name=f"{m}/output")


@register("googlenet-paper", family="googlenet", input="3x224x224",
          source=f"{_PAPER}, Table 1; BVLC Caffe models/bvlc_googlenet/deploy.prototxt (BVLC/caffe 9b89154)")
def googlenet_paper() -> Graph:
    """GoogLeNet as published and as BVLC's Caffe model defines it: 5x5 branches, local
    response normalisation after the first pooling and the second convolution, Caffe's
    rounding (pooling rounds up), no auxiliary classifiers (deploy network)."""
    b = Builder("3x224x224", name="googlenet-paper", convention="caffe", input_name="data")
    _caffe_conv(b, "conv1/7x7_s2", 64, 7, s=2, p=3)
    b.maxpool(3, s=2, name="pool1/3x3_s2")
    b.lrn(5, name="pool1/norm1")
    _caffe_conv(b, "conv2/3x3_reduce", 64, 1)
    _caffe_conv(b, "conv2/3x3", 192, 3, p=1)
    b.lrn(5, name="conv2/norm2")
    x = b.maxpool(3, s=2, name="pool2/3x3_s2")
    for name in _MODULES:
        x = _paper_module(b, x, name)
        if name in _POOL_AFTER:
            stage = _POOL_AFTER[name]
            x = b.maxpool(3, s=2, name=f"pool{stage}/3x3_s2")
    b.avgpool(7, s=1, name="pool5/7x7_s1")
    b.dropout(0.4, name="pool5/drop_7x7_s1")
    b.flatten(name="flatten")
    b.linear(1000, name="loss3/classifier")
    b.softmax(name="prob")
    return b.graph()
