"""ConvNeXt (Liu et al., "A ConvNet for the 2020s", CVPR 2022) as torchvision ships it
(``convnext.py``): tiny, small, base, large.

A "patchify" stem (4x4 convolution, stride 4), four stages of ConvNeXt blocks with
downsampling layers between them (LayerNorm over the channels, 2x2 convolution,
stride 2). A block: depthwise 7x7 convolution; then, channels last (``permute``),
LayerNorm, a 4x expanding linear layer, GELU and a projecting linear layer applied at
every position (``pointwise``); channels first again, a learned per-channel layer scale
(``scale``, initialised to 1e-6), stochastic depth, and the block's input added back.
"""

from __future__ import annotations

from ..builder import Builder
from ..graph import Graph
from ._common import torchvision_source
from .registry import register

__all__: list[str] = []

_EPS = 1e-6  # every LayerNorm in torchvision's ConvNeXt

# name: (stage widths, blocks per stage, stochastic depth probability of the last block)
_MODELS = {
    "convnext_tiny": ((96, 192, 384, 768), (3, 3, 9, 3), 0.1),
    "convnext_small": ((96, 192, 384, 768), (3, 3, 27, 3), 0.4),
    "convnext_base": ((128, 256, 512, 1024), (3, 3, 27, 3), 0.5),
    "convnext_large": ((192, 384, 768, 1536), (3, 3, 27, 3), 0.5),
}


def _convnext(name: str, widths: tuple[int, ...], depths: tuple[int, ...], drop: float) -> Graph:
    b = Builder("3x224x224", name=name)
    with b.scope("features.0"):
        b.conv(widths[0], k=4, s=4, name="0")
        b.ln(channels=True, eps=_EPS, name="1")
    total = sum(depths)
    block_id = 0
    for stage, (width, depth) in enumerate(zip(widths, depths)):
        for j in range(depth):
            # torchvision: stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
            _block(b, f"features.{2 * stage + 1}.{j}", width, drop * block_id / (total - 1.0))
            block_id += 1
        if stage + 1 < len(widths):
            with b.scope(f"features.{2 * stage + 2}"):
                b.ln(channels=True, eps=_EPS, name="0")
                b.conv(widths[stage + 1], k=2, s=2, name="1")
    b.globalavgpool(name="avgpool")
    b.ln(channels=True, eps=_EPS, name="classifier.0")
    b.flatten(name="classifier.1")
    b.linear(1000, name="classifier.2")
    return b.graph()


def _block(b: Builder, name: str, dim: int, drop: float) -> None:
    block_input = b.last
    assert block_input is not None
    with b.scope(name):
        b.conv(dim, k=7, p=3, g=dim, name="block.0")
        b.permute((0, 2, 3, 1), name="block.1")
        b.ln(eps=_EPS, name="block.2")
        b.linear(4 * dim, pointwise=True, name="block.3")
        b.gelu(name="block.4")
        b.linear(dim, pointwise=True, name="block.5")
        b.permute((0, 3, 1, 2), name="block.6")
        b.scale(name="layer_scale")
        b.stochasticdepth(drop, name="stochastic_depth")
    b.add(b.last, block_input, name=name)


def _register(name: str) -> None:
    widths, depths, drop = _MODELS[name]
    size = name.split("_")[1]

    @register(name, family="convnext", input="3x224x224",
              source=torchvision_source(name, f"ConvNeXt_{size.capitalize()}_Weights.IMAGENET1K_V1"),
              description=f"ConvNeXt-{size[0].upper()}")
    def build() -> Graph:
        return _convnext(name, widths, depths, drop)


for _name in _MODELS:
    _register(_name)
