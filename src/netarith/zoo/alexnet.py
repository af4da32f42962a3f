"""AlexNet as torchvision ships it, as the paper describes it, as Caffe defines it;
CaffeNet; and ZFNet, the AlexNet that Zeiler & Fergus tuned.

The five convolutions of the two-GPU network (Krizhevsky et al., NIPS 2012,
section 3.5) are one table, ``_TWO_GPU``; the variants differ in the input,
the rounding convention, the order of pooling and normalisation, and the names.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..builder import Builder
from ..graph import Graph
from .registry import register

#: (kernels, kernel size, stride, padding, groups) of conv1..conv5. Groups 2 are the
#: layers that see only their own GPU's maps (section 3.5); padding and stride of
#: conv2-5 come from the cuda-convnet2 layer file (layers-imagenet-2gpu-model.cfg).
_TWO_GPU = ((96, 11, 4, 0, 1), (256, 5, 1, 2, 2), (384, 3, 1, 1, 1), (384, 3, 1, 1, 2), (256, 3, 1, 1, 2))
#: conv1-5 of Zeiler & Fergus 2014, Figure 3: 7x7 stride 2 first, dense layers 3-5.
#: Padding is not printed; 1 on conv1 and 1 on conv3-5 give the printed 110, 13, 13, 13.
_ZF = ((96, 7, 2, 1, 1), (256, 5, 2, 0, 1), (384, 3, 1, 1, 1), (384, 3, 1, 1, 1), (256, 3, 1, 1, 1))
_POOLED = (1, 2, 5)  # conv layers followed by 3x3 stride-2 max pooling
_NORMED = (1, 2)  # ... and by local response normalisation
_LRN = {"alpha": 1e-4, "beta": 0.75}  # section 3.3: n = 5, alpha = 1e-4, beta = 0.75 (k: 2 in the paper, 1 in Caffe)


def _classifier(b: Builder, relu_names: bool) -> None:
    """fc6, fc7 (4096 each, ReLU, dropout 0.5) and fc8 (1000)."""
    b.flatten(name="flatten" if relu_names else None)
    for i in (6, 7):
        b.linear(4096, name=f"fc{i}")
        b.relu(name=f"relu{i}" if relu_names else None)
        b.dropout(0.5, name=f"drop{i}" if relu_names else None)
    b.linear(1000, name="fc8")


def _convs(b: Builder, table: tuple[tuple[int, int, int, int, int], ...], *, pool_first: bool,
           relu_names: bool, lrn_k: float) -> None:
    """conv1..5 with ReLU, and pooling and normalisation in either order."""
    for i, (out, k, s, p, g) in enumerate(table, start=1):
        b.conv(out, k=k, s=s, p=p, g=g, name=f"conv{i}")
        b.relu(name=f"relu{i}" if relu_names else None)
        for step in ("pool", "norm") if pool_first else ("norm", "pool"):
            if step == "norm" and i in _NORMED:
                b.lrn(5, k=lrn_k, name=f"norm{i}", **_LRN)
            elif step == "pool" and i in _POOLED:
                b.maxpool(3, s=2, name=f"pool{i}")


@register("alexnet-paper", family="alexnet", input="3x224x224",
          source="Krizhevsky, Sutskever, Hinton. ImageNet Classification with Deep Convolutional "
                 "Neural Networks. NIPS 2012, section 3.5 (cuda-convnet rounding)")
def alexnet_paper() -> Graph:
    """AlexNet as published: 224 input, two-GPU groups, normalisation before pooling,
    under cuda-convnet's rounding up (the authors' code), which gives the paper's 55x55
    maps from a 224 input. The same network as examples/alexnet-paper.net."""
    b = Builder("3x224x224", name="alexnet-paper", convention="cuda-convnet")
    _convs(b, _TWO_GPU, pool_first=False, relu_names=False, lrn_k=2.0)
    _classifier(b, relu_names=False)
    return b.graph()


def _caffe_alexnet(name: str, *, pool_first: bool) -> Graph:
    b = Builder("3x227x227", name=name, convention="caffe", input_name="data")
    _convs(b, _TWO_GPU, pool_first=pool_first, relu_names=True, lrn_k=1.0)
    _classifier(b, relu_names=True)
    b.softmax(name="prob")
    return b.graph()


@register("alexnet-caffe", family="alexnet", input="3x227x227",
          source="BVLC Caffe models/bvlc_alexnet/deploy.prototxt (BVLC/caffe 9b89154)")
def alexnet_caffe() -> Graph:
    """BVLC's AlexNet: 227 input, groups 2 on conv2/4/5, normalisation before pooling."""
    return _caffe_alexnet("alexnet-caffe", pool_first=False)


@register("caffenet", family="alexnet", input="3x227x227",
          source="BVLC Caffe models/bvlc_reference_caffenet/deploy.prototxt (BVLC/caffe 9b89154)")
def caffenet() -> Graph:
    """BVLC's reference CaffeNet: AlexNet with pooling before normalisation."""
    return _caffe_alexnet("caffenet", pool_first=True)


@register("zfnet", family="alexnet", input="3x224x224",
          source="Zeiler, Fergus. Visualizing and Understanding Convolutional Networks. ECCV 2014, "
                 "Figure 3")
def zfnet() -> Graph:
    """ZFNet: 7x7 stride-2 first layer, stride-2 conv2, dense conv3-5; each of layers 1-2
    is rectified, pooled (3x3, stride 2) and contrast-normalised across maps (Figure 3).
    The pooling rounds up (Caffe's rule), which gives the printed 55 and 13 from 110
    and 26. The normalisation size is not printed; AlexNet's 5 is used (it counts nothing)."""
    b = Builder("3x224x224", name="zfnet", convention="caffe", input_name="data")
    _convs(b, _ZF, pool_first=True, relu_names=True, lrn_k=1.0)
    _classifier(b, relu_names=True)
    b.softmax(name="prob")
    return b.graph()


def _indexed(prefix: str) -> Iterator[str]:
    """features.0, features.1, ...: the names of an nn.Sequential's children."""
    i = 0
    while True:
        yield f"{prefix}.{i}"
        i += 1


@register("alexnet", family="alexnet", input="3x224x224",
          source="torchvision 0.29 models.alexnet (Krizhevsky 2014, 'One weird trick', 1-GPU widths)")
def alexnet() -> Graph:
    """torchvision's AlexNet: one GPU's widths (64, 192, 384, 256, 256), conv1 padding 2,
    adaptive 6x6 average pooling before the classifier, dropout before fc6 and fc7."""
    b = Builder("3x224x224", name="alexnet")
    names = _indexed("features")
    widths = ((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1))
    for i, (out, k, s, p) in enumerate(widths, start=1):
        b.conv(out, k=k, s=s, p=p, name=next(names))
        b.relu(name=next(names))
        if i in _POOLED:
            b.maxpool(3, s=2, name=next(names))
    b.adaptiveavgpool(6, name="avgpool")
    b.flatten(name="flatten")
    head = _indexed("classifier")
    for _ in range(2):
        b.dropout(0.5, name=next(head))
        b.linear(4096, name=next(head))
        b.relu(name=next(head))
    b.linear(1000, name=next(head))
    return b.graph()
