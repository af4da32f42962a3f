"""VGG: configurations A-E of Simonyan & Zisserman (ICLR 2015, Table 1) as the paper
gives them, and torchvision's vgg11/13/16/19 with and without batch normalisation.

A configuration is five stages of 3x3 convolutions (stride 1, padding 1), each
followed by 2x2 max pooling; C adds a 1x1 convolution at the end of stages 3-5.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = ("Simonyan, Zisserman. Very Deep Convolutional Networks for Large-Scale Image "
          "Recognition. ICLR 2015 (arXiv 1409.1556v6)")
_WIDTHS = (64, 128, 256, 512, 512)
#: Table 1: kernel sizes of the convolutions in each of the five stages.
_CONFIGS: dict[str, tuple[tuple[int, ...], ...]] = {
    "A": ((3,), (3,), (3, 3), (3, 3), (3, 3)),
    "B": ((3, 3), (3, 3), (3, 3), (3, 3), (3, 3)),
    "C": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
    "D": ((3, 3), (3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    "E": ((3, 3), (3, 3), (3, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)),
}
_DEPTHS = {"A": 11, "B": 13, "C": 16, "D": 16, "E": 19}


def _paper(config: str, *, lrn: bool = False) -> Graph:
    """A configuration with the VGG authors' Caffe layer names (conv3_1, pool3, fc6)."""
    name = f"vgg-{config.lower()}" + ("-lrn" if lrn else "")
    b = Builder("3x224x224", name=name, input_name="data")
    for stage, (width, kernels) in enumerate(zip(_WIDTHS, _CONFIGS[config]), start=1):
        for i, k in enumerate(kernels, start=1):
            b.conv(width, k=k, p=k // 2, name=f"conv{stage}_{i}")
            b.relu(name=f"relu{stage}_{i}")
            if lrn and stage == 1:
                b.lrn(5, name="norm1")  # A-LRN: section 2.3 uses Krizhevsky's normalisation
        b.maxpool(2, s=2, name=f"pool{stage}")
    b.flatten(name="flatten")
    for i in (6, 7):
        b.linear(4096, name=f"fc{i}")
        b.relu(name=f"relu{i}")
        b.dropout(0.5, name=f"drop{i}")
    b.linear(1000, name="fc8")
    b.softmax(name="prob")
    return b.graph()


def _register_paper(config: str, lrn: bool = False) -> None:
    name = f"vgg-{config.lower()}" + ("-lrn" if lrn else "")
    what = f"configuration {config}{'-LRN' if lrn else ''} ({_DEPTHS[config]} weight layers)"

    def build() -> Graph:
        return _paper(config, lrn=lrn)

    build.__doc__ = f"VGG {what}, as in Table 1 of the paper: 224 input, fully connected layers on 7x7x512."
    register(name, family="vgg", input="3x224x224", source=f"{_PAPER}, Table 1, {what}")(build)


for _config in _CONFIGS:
    _register_paper(_config)
_register_paper("A", lrn=True)


def _torchvision(config: str, batch_norm: bool) -> Graph:
    """torchvision's VGG: features.N numbered as its nn.Sequential, adaptive 7x7 pooling,
    dropout after the ReLUs of the classifier."""
    depth = _DEPTHS[config]
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    b = Builder("3x224x224", name=name)
    index = 0

    def next_name() -> str:
        nonlocal index
        index += 1
        return f"features.{index - 1}"

    for width, kernels in zip(_WIDTHS, _CONFIGS[config]):
        for _ in kernels:
            b.conv(width, k=3, p=1, name=next_name())
            if batch_norm:
                b.bn(name=next_name())
            b.relu(name=next_name())
        b.maxpool(2, s=2, name=next_name())
    b.adaptiveavgpool(7, name="avgpool")
    b.flatten(name="flatten")
    b.linear(4096, name="classifier.0")
    b.relu(name="classifier.1")
    b.dropout(0.5, name="classifier.2")
    b.linear(4096, name="classifier.3")
    b.relu(name="classifier.4")
    b.dropout(0.5, name="classifier.5")
    b.linear(1000, name="classifier.6")
    return b.graph()


def _register_torchvision(config: str, batch_norm: bool) -> None:
    name = f"vgg{_DEPTHS[config]}" + ("_bn" if batch_norm else "")

    def build() -> Graph:
        return _torchvision(config, batch_norm)

    build.__doc__ = (f"torchvision's {name}: configuration {config}"
                     + (" with batch normalisation after each convolution." if batch_norm else "."))
    register(name, family="vgg", input="3x224x224",
             source=f"torchvision 0.29 models.{name} ({_PAPER}, configuration {config})")(build)


for _config in ("A", "B", "D", "E"):
    for _bn in (False, True):
        _register_torchvision(_config, _bn)
