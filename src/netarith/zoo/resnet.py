"""ResNet: the paper's networks (He, Zhang, Ren, Sun, CVPR 2016, Table 1) and
torchvision's ResNet, ResNeXt and Wide ResNet.

The two differ in one place: where a downsampling bottleneck puts its stride.
The paper and its Caffe models stride the first 1x1 convolution; torchvision
strides the 3x3 ("ResNet v1.5", the comment in torchvision's resnet.py), which
costs more: ResNet-50 3.858 vs 4.089 GMACs. Basic blocks (ResNet-18/34) stride
their first 3x3 in both. Shortcuts are identities, or 1x1 projections where the
shape changes (the paper's option B, section 3.3).
"""

from __future__ import annotations

from collections.abc import Callable

from .._values import frozen
from ..builder import Builder
from ..graph import Graph
from .registry import register

_PAPER = "He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition. CVPR 2016"
_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


@frozen(slots=False)
class _BlockNames:
    """How the layers of one residual block are named."""

    conv: Callable[[int], str]  # the i-th convolution of the residual branch
    bn: Callable[[int], str]
    relu: Callable[[int], str]  # the ReLU after the i-th convolution; the last one follows the add
    projection: str
    projection_bn: str
    add: str


def _torchvision_names(prefix: str) -> _BlockNames:
    """layer1.0.conv1, layer1.0.bn1, layer1.0.downsample.0; the block's one ReLU module,
    called after each inner convolution and after the add, gives relu, relu_1, relu_2."""
    return _BlockNames(
        conv=lambda i: f"{prefix}.conv{i + 1}",
        bn=lambda i: f"{prefix}.bn{i + 1}",
        relu=lambda i: f"{prefix}.relu" if i == 0 else f"{prefix}.relu_{i}",
        projection=f"{prefix}.downsample.0",
        projection_bn=f"{prefix}.downsample.1",
        add=f"{prefix}.add",
    )


def _caffe_names(block: str, convs: int) -> _BlockNames:
    """The names of the authors' Caffe models: res2a_branch2a, bn2a_branch2a, res2a_branch1,
    res2a (the sum), res2a_relu."""
    letters = "abc"
    return _BlockNames(
        conv=lambda i: f"res{block}_branch2{letters[i]}",
        bn=lambda i: f"bn{block}_branch2{letters[i]}",
        relu=lambda i: f"res{block}_relu" if i == convs - 1 else f"res{block}_branch2{letters[i]}_relu",
        projection=f"res{block}_branch1",
        projection_bn=f"bn{block}_branch1",
        add=f"res{block}",
    )


def _caffe_block_id(stage: int, j: int, count: int) -> str:
    """res4a, res4b, ... ; stages of more than six blocks number them: res4a, res4b1, res4b2."""
    if count <= 6:
        return f"{stage}{'abcdef'[j]}"
    return f"{stage}a" if j == 0 else f"{stage}b{j}"


@frozen(slots=False)
class _Spec:
    blocks: tuple[int, ...]
    bottleneck: bool
    groups: int = 1
    width_per_group: int = 64
    stride_on_1x1: bool = False  # the paper's bottleneck; torchvision strides the 3x3


def _block(b: Builder, x: str, names: _BlockNames, convs: list[tuple[int, int, int, int]],
           out: int, stride: int, project: bool) -> str:
    """conv-bn(-relu) for each (channels, kernel, stride, groups), the shortcut, the sum, a ReLU."""
    y = x
    for i, (channels, k, s, g) in enumerate(convs):
        y = b.conv(channels, k=k, s=s, p=k // 2, g=g, bias=False, inputs=y, name=names.conv(i))
        y = b.bn(name=names.bn(i))
        if i < len(convs) - 1:
            y = b.relu(name=names.relu(i))
    shortcut = x
    if project:
        b.conv(out, k=1, s=stride, bias=False, inputs=x, name=names.projection)
        shortcut = b.bn(name=names.projection_bn)
    b.add(y, shortcut, name=names.add)
    return b.relu(name=names.relu(len(convs) - 1))


def _stages(b: Builder, x: str, spec: _Spec, caffe: bool) -> str:
    expansion = 4 if spec.bottleneck else 1
    channels = 64
    for stage, count in enumerate(spec.blocks):
        planes = 64 * 2 ** stage
        out = planes * expansion
        for j in range(count):
            stride = 2 if stage > 0 and j == 0 else 1
            if spec.bottleneck:
                width = planes * spec.width_per_group // 64 * spec.groups
                first = stride if spec.stride_on_1x1 else 1
                convs = [(width, 1, first, 1), (width, 3, stride // first, spec.groups), (out, 1, 1, 1)]
            else:
                convs = [(planes, 3, stride, 1), (planes, 3, 1, 1)]
            if caffe:
                names = _caffe_names(_caffe_block_id(stage + 2, j, count), len(convs))
            else:
                names = _torchvision_names(f"layer{stage + 1}.{j}")
            x = _block(b, x, names, convs, out, stride, project=j == 0 and (stride != 1 or channels != out))
            channels = out
    return x


def _torchvision(name: str, spec: _Spec) -> Graph:
    b = Builder("3x224x224", name=name)
    b.conv(64, k=7, s=2, p=3, bias=False, name="conv1")
    b.bn(name="bn1")
    b.relu(name="relu")
    x = b.maxpool(3, s=2, p=1, name="maxpool")
    _stages(b, x, spec, caffe=False)
    b.adaptiveavgpool(1, name="avgpool")
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    return b.graph()


def _paper(name: str, spec: _Spec) -> Graph:
    """With the layer names of the authors' Caffe models, and Caffe's rounding (pool1 has
    no padding: 112 rounds up to 56)."""
    b = Builder("3x224x224", name=name, convention="caffe", input_name="data")
    b.conv(64, k=7, s=2, p=3, bias=False, name="conv1")
    b.bn(name="bn_conv1")
    b.relu(name="conv1_relu")
    x = b.maxpool(3, s=2, name="pool1")
    _stages(b, x, spec, caffe=True)
    b.avgpool(7, s=1, name="pool5")
    b.flatten(name="flatten")
    b.linear(1000, name="fc1000")
    b.softmax(name="prob")
    return b.graph()


_TORCHVISION: dict[str, tuple[_Spec, str]] = {
    **{f"resnet{d}": (_Spec(_BLOCKS[d], d >= 50), _PAPER + ("; stride on the 3x3 (v1.5)" if d >= 50 else ""))
       for d in _BLOCKS},
    "resnext50_32x4d": (_Spec(_BLOCKS[50], True, 32, 4),
                        "Xie et al. Aggregated Residual Transformations for Deep Neural Networks. CVPR 2017"),
    "resnext101_32x8d": (_Spec(_BLOCKS[101], True, 32, 8),
                         "Xie et al. Aggregated Residual Transformations for Deep Neural Networks. CVPR 2017"),
    "resnext101_64x4d": (_Spec(_BLOCKS[101], True, 64, 4),
                         "Xie et al. Aggregated Residual Transformations for Deep Neural Networks. CVPR 2017"),
    "wide_resnet50_2": (_Spec(_BLOCKS[50], True, 1, 128), "Zagoruyko, Komodakis. Wide Residual Networks. BMVC 2016"),
    "wide_resnet101_2": (_Spec(_BLOCKS[101], True, 1, 128),
                         "Zagoruyko, Komodakis. Wide Residual Networks. BMVC 2016"),
}


def _register_torchvision(name: str, spec: _Spec, paper: str) -> None:
    def build() -> Graph:
        return _torchvision(name, spec)

    kind = "bottleneck" if spec.bottleneck else "basic"
    build.__doc__ = (f"torchvision's {name}: {kind} blocks {'-'.join(map(str, spec.blocks))}"
                     + (f", {spec.groups} groups of width {spec.width_per_group}" if spec.groups > 1 else "")
                     + (f", bottleneck width x{spec.width_per_group // 64}" if spec.width_per_group > 64
                        and spec.groups == 1 else "") + ".")
    register(name, family="resnet", input="3x224x224", source=f"torchvision 0.29 models.{name} ({paper})")(build)


def _register_paper(depth: int) -> None:
    name = f"resnet{depth}-paper"
    spec = _Spec(_BLOCKS[depth], depth >= 50, stride_on_1x1=True)

    def build() -> Graph:
        return _paper(name, spec)

    build.__doc__ = (f"ResNet-{depth} of Table 1: {'bottleneck' if depth >= 50 else 'basic'} blocks "
                     f"{'-'.join(map(str, spec.blocks))}, downsampling by conv3_1, conv4_1, conv5_1 "
                     "(the first 1x1 of a bottleneck strides, as in the paper's Caffe models), "
                     "projection shortcuts where the shape changes (option B).")
    register(name, family="resnet", input="3x224x224", source=f"{_PAPER}, Table 1")(build)


for _name, (_spec, _source) in _TORCHVISION.items():
    _register_torchvision(_name, _spec, _source)
for _depth in _BLOCKS:
    _register_paper(_depth)
