"""Inception v3 as torchvision ships it: Szegedy, Vanhoucke, Ioffe, Shlens, Wojna,
"Rethinking the Inception Architecture for Computer Vision", CVPR 2016.

torchvision's ImageNet weights keep the auxiliary classifier (``AuxLogits``), and
its ``num_params`` counts it; it runs only in training, so its layers are marked
``train_only`` (``@train``): their parameters count, their MACs do not in eval mode,
as torchvision's ``_ops`` leaves them out. The input transform (a per-channel
affine map) has no parameters and no MACs and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = ("Szegedy, Vanhoucke, Ioffe, Shlens, Wojna. Rethinking the Inception Architecture for "
          "Computer Vision. CVPR 2016")
_Kernel = int | tuple[int, int]


def _conv(b: Builder, scope: str, out: int, k: _Kernel, *, s: int = 1, p: _Kernel = 0,
          inputs: str | None = None, train_only: bool = False) -> str:
    """torchvision's BasicConv2d: conv (no bias), bn (eps 0.001), relu, named scope.conv/.bn/.relu."""
    with b.scope(scope):
        b.conv(out, k=k, s=s, p=p, bias=False, inputs=inputs, name="conv", train_only=train_only)
        b.bn(eps=0.001, name="bn", train_only=train_only)
        return b.relu(name="relu", train_only=train_only)


def _chain(b: Builder, x: str, convs: Sequence[tuple[str, int, _Kernel, _Kernel, int]]) -> str:
    """Convolutions one after the other: (name, out, kernel, padding, stride)."""
    for name, out, k, p, s in convs:
        x = _conv(b, name, out, k, p=p, s=s, inputs=x)
    return x


def _pool_branch(b: Builder, x: str, out: int) -> str:
    b.avgpool(3, s=1, p=1, inputs=x, name="avgpool")
    return _conv(b, "branch_pool", out, 1)


def _module_a(b: Builder, x: str, pool_features: int) -> str:
    branches = [
        _conv(b, "branch1x1", 64, 1, inputs=x),
        _chain(b, x, [("branch5x5_1", 48, 1, 0, 1), ("branch5x5_2", 64, 5, 2, 1)]),
        _chain(b, x, [("branch3x3dbl_1", 64, 1, 0, 1), ("branch3x3dbl_2", 96, 3, 1, 1),
                      ("branch3x3dbl_3", 96, 3, 1, 1)]),
        _pool_branch(b, x, pool_features),
    ]
    return b.concat(*branches, name="cat")


def _module_b(b: Builder, x: str) -> str:
    branches = [
        _conv(b, "branch3x3", 384, 3, s=2, inputs=x),
        _chain(b, x, [("branch3x3dbl_1", 64, 1, 0, 1), ("branch3x3dbl_2", 96, 3, 1, 1),
                      ("branch3x3dbl_3", 96, 3, 0, 2)]),
        b.maxpool(3, s=2, inputs=x, name="maxpool"),
    ]
    return b.concat(*branches, name="cat")


def _module_c(b: Builder, x: str, c7: int) -> str:
    row, col = (1, 7), (7, 1)  # 1x7 and 7x1: the factorised 7x7 (section 3.2)
    prow, pcol = (0, 3), (3, 0)
    branches = [
        _conv(b, "branch1x1", 192, 1, inputs=x),
        _chain(b, x, [("branch7x7_1", c7, 1, 0, 1), ("branch7x7_2", c7, row, prow, 1),
                      ("branch7x7_3", 192, col, pcol, 1)]),
        _chain(b, x, [("branch7x7dbl_1", c7, 1, 0, 1), ("branch7x7dbl_2", c7, col, pcol, 1),
                      ("branch7x7dbl_3", c7, row, prow, 1), ("branch7x7dbl_4", c7, col, pcol, 1),
                      ("branch7x7dbl_5", 192, row, prow, 1)]),
        _pool_branch(b, x, 192),
    ]
    return b.concat(*branches, name="cat")


def _module_d(b: Builder, x: str) -> str:
    branches = [
        _chain(b, x, [("branch3x3_1", 192, 1, 0, 1), ("branch3x3_2", 320, 3, 0, 2)]),
        _chain(b, x, [("branch7x7x3_1", 192, 1, 0, 1), ("branch7x7x3_2", 192, (1, 7), (0, 3), 1),
                      ("branch7x7x3_3", 192, (7, 1), (3, 0), 1), ("branch7x7x3_4", 192, 3, 0, 2)]),
        b.maxpool(3, s=2, inputs=x, name="maxpool"),
    ]
    return b.concat(*branches, name="cat")


def _split(b: Builder, x: str, prefix: str) -> str:
    """The 1x3 and 3x1 pair side by side, concatenated (Figure 7)."""
    a = _conv(b, f"{prefix}a", 384, (1, 3), p=(0, 1), inputs=x)
    c = _conv(b, f"{prefix}b", 384, (3, 1), p=(1, 0), inputs=x)
    return b.concat(a, c, name=f"{prefix.rstrip('_')}.cat")


def _module_e(b: Builder, x: str) -> str:
    branches = [
        _conv(b, "branch1x1", 320, 1, inputs=x),
        _split(b, _conv(b, "branch3x3_1", 384, 1, inputs=x), "branch3x3_2"),
        _split(b, _chain(b, x, [("branch3x3dbl_1", 448, 1, 0, 1), ("branch3x3dbl_2", 384, 3, 1, 1)]),
               "branch3x3dbl_3"),
        _pool_branch(b, x, 192),
    ]
    return b.concat(*branches, name="cat")


def _aux(b: Builder, x: str) -> None:
    """InceptionAux on Mixed_6e: 5x5/3 average pooling, 1x1 (128), 5x5 (768), global pool, fc."""
    with b.scope("AuxLogits"):
        b.avgpool(5, s=3, inputs=x, name="avgpool", train_only=True)
        _conv(b, "conv0", 128, 1, train_only=True)
        _conv(b, "conv1", 768, 5, train_only=True)
        b.adaptiveavgpool(1, name="adaptive_avgpool", train_only=True)
        b.flatten(name="flatten", train_only=True)
        b.linear(1000, name="fc", train_only=True)


@register("inception_v3", family="inception", input="3x299x299",
          source=f"torchvision 0.29 models.inception_v3, with its auxiliary classifier ({_PAPER})")
def inception_v3() -> Graph:
    """torchvision's Inception v3 at 299x299, auxiliary classifier included (training only)."""
    b = Builder("3x299x299", name="inception_v3")
    x = _chain(b, "input", [("Conv2d_1a_3x3", 32, 3, 0, 2), ("Conv2d_2a_3x3", 32, 3, 0, 1),
                            ("Conv2d_2b_3x3", 64, 3, 1, 1)])
    b.maxpool(3, s=2, name="maxpool1", inputs=x)
    x = _chain(b, "maxpool1", [("Conv2d_3b_1x1", 80, 1, 0, 1), ("Conv2d_4a_3x3", 192, 3, 0, 1)])
    x = b.maxpool(3, s=2, name="maxpool2", inputs=x)
    for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
        with b.scope(name):
            x = _module_a(b, x, pool_features)
    with b.scope("Mixed_6a"):
        x = _module_b(b, x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        with b.scope(name):
            x = _module_c(b, x, c7)
    _aux(b, x)
    with b.scope("Mixed_7a"):
        x = _module_d(b, x)
    for name in ("Mixed_7b", "Mixed_7c"):
        with b.scope(name):
            x = _module_e(b, x)
    b.adaptiveavgpool(1, name="avgpool", inputs=x)
    b.dropout(0.5, name="dropout")
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    return b.graph()
