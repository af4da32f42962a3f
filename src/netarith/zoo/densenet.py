"""DenseNet-BC as torchvision ships it: Huang, Liu, van der Maaten, Weinberger,
"Densely Connected Convolutional Networks", CVPR 2017 (Table 1).

Each dense layer sees the concatenation of the block's input and every earlier
layer's output (written here as a ``concat`` layer named ``...cat``), and adds
``growth`` maps through BN-ReLU-1x1 (4 x growth)-BN-ReLU-3x3. Transitions halve the
maps (compression 0.5) and the size (2x2 average pooling).
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = ("Huang, Liu, van der Maaten, Weinberger. Densely Connected Convolutional Networks. "
          "CVPR 2017")
#: name: (growth rate, layers per block, initial maps) from torchvision's densenet.py
_CONFIGS = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}
_BN_SIZE = 4  # the bottleneck 1x1 has bn_size * growth maps


def _dense_block(b: Builder, x: str, prefix: str, layers: int, growth: int) -> str:
    features = [x]
    for i in range(1, layers + 1):
        with b.scope(f"{prefix}.denselayer{i}"):
            inp = features[0] if len(features) == 1 else b.concat(*features, name="cat")
            b.bn(inputs=inp, name="norm1")
            b.relu(name="relu1")
            b.conv(_BN_SIZE * growth, k=1, bias=False, name="conv1")
            b.bn(name="norm2")
            b.relu(name="relu2")
            features.append(b.conv(growth, k=3, p=1, bias=False, name="conv2"))
    return b.concat(*features, name=f"{prefix}.cat")


def _densenet(name: str, growth: int, blocks: tuple[int, ...], init: int) -> Graph:
    b = Builder("3x224x224", name=name)
    with b.scope("features"):
        b.conv(init, k=7, s=2, p=3, bias=False, name="conv0")
        b.bn(name="norm0")
        b.relu(name="relu0")
        x = b.maxpool(3, s=2, p=1, name="pool0")
        maps = init
        for i, layers in enumerate(blocks, start=1):
            x = _dense_block(b, x, f"denseblock{i}", layers, growth)
            maps += layers * growth
            if i < len(blocks):
                with b.scope(f"transition{i}"):
                    b.bn(name="norm")
                    b.relu(name="relu")
                    maps //= 2
                    b.conv(maps, k=1, bias=False, name="conv")
                    x = b.avgpool(2, s=2, name="pool")
        b.bn(name="norm5")
    b.relu(name="relu")
    b.adaptiveavgpool(1, name="avgpool")
    b.flatten(name="flatten")
    b.linear(1000, name="classifier")
    return b.graph()


def _register(name: str, growth: int, blocks: tuple[int, ...], init: int) -> None:
    def build() -> Graph:
        return _densenet(name, growth, blocks, init)

    build.__doc__ = (f"torchvision's {name}: growth rate {growth}, dense blocks of "
                     f"{'-'.join(map(str, blocks))} layers, {init} initial maps.")
    register(name, family="densenet", input="3x224x224", source=f"torchvision 0.29 models.{name} ({_PAPER})")(build)


for _name, (_growth, _blocks, _init) in _CONFIGS.items():
    _register(_name, _growth, _blocks, _init)
