"""SqueezeNet: Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size", arXiv 1602.07360 (2016).

A Fire module squeezes with 1x1 convolutions, then expands with 1x1 and 3x3
convolutions side by side, concatenated. Version 1.0 is the paper's network
(Table 1); version 1.1 (the authors' repository, SqueezeNet_v1.1) starts with 64
3x3 kernels and pools earlier, for 2.4x fewer MACs.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = ("Iandola et al. SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and "
          "<0.5MB model size. arXiv 1602.07360")
#: Table 1: (squeeze 1x1, expand 1x1, expand 3x3) of fire2..fire9.
_FIRES = ((16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
          (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))
#: Where the max pooling layers sit: after conv1 and after these fire modules.
_POOLS = {"1_0": (4, 8), "1_1": (3, 5)}
_STEM = {"1_0": (96, 7), "1_1": (64, 3)}  # conv1 kernels and kernel size (stride 2)


def _torchvision_fire(b: Builder, prefix: str, squeeze: int, e1: int, e3: int) -> str:
    with b.scope(prefix):
        b.conv(squeeze, k=1, name="squeeze")
        s = b.relu(name="squeeze_activation")
        b.conv(e1, k=1, inputs=s, name="expand1x1")
        a = b.relu(name="expand1x1_activation")
        b.conv(e3, k=3, p=1, inputs=s, name="expand3x3")
        c = b.relu(name="expand3x3_activation")
        return b.concat(a, c, name="cat")


def _torchvision(version: str) -> Graph:
    """torchvision's features.N numbering; its max pooling rounds up (ceil_mode)."""
    b = Builder("3x224x224", name=f"squeezenet{version}")
    index = iter(range(100))
    out, k = _STEM[version]
    b.conv(out, k=k, s=2, name=f"features.{next(index)}")
    b.relu(name=f"features.{next(index)}")
    b.maxpool(3, s=2, rounding="ceil", name=f"features.{next(index)}")
    for fire, (squeeze, e1, e3) in enumerate(_FIRES, start=2):
        _torchvision_fire(b, f"features.{next(index)}", squeeze, e1, e3)
        if fire in _POOLS[version]:
            b.maxpool(3, s=2, rounding="ceil", name=f"features.{next(index)}")
    b.dropout(0.5, name="classifier.0")
    b.conv(1000, k=1, name="classifier.1")
    b.relu(name="classifier.2")
    b.adaptiveavgpool(1, name="classifier.3")
    b.flatten(name="flatten")
    return b.graph()


def _register_torchvision(version: str) -> None:
    name = f"squeezenet{version}"

    def build() -> Graph:
        return _torchvision(version)

    out, k = _STEM[version]
    build.__doc__ = (f"torchvision's SqueezeNet {version.replace('_', '.')}: conv1 {out}x{k}x{k}/2, "
                     f"max pooling after conv1 and fire{' and fire'.join(map(str, _POOLS[version]))}.")
    register(name, family="squeezenet", input="3x224x224", source=f"torchvision 0.29 models.{name} ({_PAPER})")(build)


for _version in _POOLS:
    _register_torchvision(_version)


@register("squeezenet-paper", family="squeezenet", input="3x227x227",
          source=f"{_PAPER}, Table 1 (SqueezeNet v1.0; the authors' Caffe deploy.prototxt uses 227x227)")
def squeezenet_paper() -> Graph:
    """SqueezeNet v1.0 of Table 1, with the authors' Caffe layer names and rounding. Table 1
    prints a 224x224x3 input yet a 111x111 conv1 (7x7, stride 2), which only a 227 input
    gives without padding: the authors' deploy.prototxt uses 227, so this does."""
    b = Builder("3x227x227", name="squeezenet-paper", convention="caffe", input_name="data")
    b.conv(96, k=7, s=2, name="conv1")
    b.relu(name="relu_conv1")
    b.maxpool(3, s=2, name="pool1")
    for fire, (squeeze, e1, e3) in enumerate(_FIRES, start=2):
        f = f"fire{fire}"
        b.conv(squeeze, k=1, name=f"{f}/squeeze1x1")
        s = b.relu(name=f"{f}/relu_squeeze1x1")
        b.conv(e1, k=1, inputs=s, name=f"{f}/expand1x1")
        a = b.relu(name=f"{f}/relu_expand1x1")
        b.conv(e3, k=3, p=1, inputs=s, name=f"{f}/expand3x3")
        c = b.relu(name=f"{f}/relu_expand3x3")
        b.concat(a, c, name=f"{f}/concat")
        if fire in _POOLS["1_0"]:
            b.maxpool(3, s=2, name=f"pool{fire}")
    b.dropout(0.5, name="drop9")
    b.conv(1000, k=1, name="conv10")
    b.relu(name="relu_conv10")
    b.globalavgpool(name="pool10")
    b.flatten(name="flatten")
    b.softmax(name="prob")
    return b.graph()
