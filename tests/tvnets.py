"""torchvision CNNs written with the Builder, layer for layer as torchvision 0.29 defines them
(models/alexnet.py, resnet.py, googlenet.py, squeezenet.py, vgg.py). The tests check their
parameter counts against torchvision's published num_params before trusting them, and their
smallest input against its min_size (tests/data/torchvision_meta.csv)."""

from __future__ import annotations

from collections.abc import Callable

from netarith import Builder, Graph


def alexnet() -> Graph:
    b = Builder("3x224x224", name="alexnet")
    for out, k, s, p, pool in ((64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False),
                               (256, 3, 1, 1, False), (256, 3, 1, 1, True)):
        b.conv(out, k=k, s=s, p=p)
        b.relu()
        if pool:
            b.maxpool(3, s=2)
    b.adaptiveavgpool(6)
    b.flatten()
    for out in (4096, 4096):
        b.dropout(0.5)
        b.linear(out)
        b.relu()
    b.linear(1000)
    return b.graph()


def resnet18() -> Graph:
    b = Builder("3x224x224", name="resnet18")
    b.conv(64, k=7, s=2, p=3, bias=False, name="conv1")
    b.bn()
    b.relu()
    b.maxpool(3, s=2, p=1)
    cin = 64
    for stage, (width, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), start=1):
        for block in range(2):
            s = stride if block == 0 else 1
            with b.scope(f"layer{stage}.{block}"):
                x = b.last
                assert x is not None
                b.conv(width, k=3, s=s, p=1, bias=False, name="conv1")
                b.bn(name="bn1")
                b.relu(name="relu1")
                b.conv(width, k=3, p=1, bias=False, name="conv2")
                y = b.bn(name="bn2")
                if s != 1 or cin != width:
                    b.conv(width, k=1, s=s, bias=False, inputs=x, name="downsample.0")
                    x = b.bn(name="downsample.1")
                b.add(y, x, name="add")
                b.relu(name="relu2")
            cin = width
    b.globalavgpool()
    b.flatten()
    b.linear(1000, name="fc")
    return b.graph()


def _basic(b: Builder, out: int, k: int, p: int = 0, s: int = 1, inputs: str | None = None,
           name: str | None = None) -> str:
    b.conv(out, k=k, s=s, p=p, bias=False, inputs=inputs, name=name)
    b.bn(eps=0.001)
    return b.relu()


def _inception(b: Builder, name: str, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int) -> str:
    x = b.last
    assert x is not None
    with b.scope(name):
        one = _basic(b, c1, 1, inputs=x)
        _basic(b, c3r, 1, inputs=x)
        three = _basic(b, c3, 3, p=1)
        _basic(b, c5r, 1, inputs=x)
        five = _basic(b, c5, 3, p=1)  # torchvision uses 3x3 here (a known deviation from the paper)
        b.maxpool(3, s=1, p=1, ceil=True, inputs=x)
        proj = _basic(b, pool, 1)
        return b.concat(one, three, five, proj, name="cat")


def _aux(b: Builder, name: str, source: str) -> None:
    with b.scope(name):
        b.adaptiveavgpool(4, inputs=source, train_only=True)
        _basic(b, 128, 1)
        b.flatten()
        b.linear(1024)
        b.relu()
        b.dropout(0.7)
        b.linear(1000)


def googlenet(aux: bool = True) -> Graph:
    b = Builder("3x224x224", name="googlenet")
    _basic(b, 64, 7, p=3, s=2, name="conv1")
    b.maxpool(3, s=2, ceil=True, name="maxpool1")
    _basic(b, 64, 1, name="conv2")
    _basic(b, 192, 3, p=1, name="conv3")
    b.maxpool(3, s=2, ceil=True, name="maxpool2")
    _inception(b, "inception3a", 64, 96, 128, 16, 32, 32)
    _inception(b, "inception3b", 128, 128, 192, 32, 96, 64)
    b.maxpool(3, s=2, ceil=True, name="maxpool3")
    a4 = _inception(b, "inception4a", 192, 96, 208, 16, 48, 64)
    _inception(b, "inception4b", 160, 112, 224, 24, 64, 64)
    _inception(b, "inception4c", 128, 128, 256, 24, 64, 64)
    d4 = _inception(b, "inception4d", 112, 144, 288, 32, 64, 64)
    e4 = _inception(b, "inception4e", 256, 160, 320, 32, 128, 128)
    b.maxpool(2, s=2, ceil=True, name="maxpool4", inputs=e4)
    _inception(b, "inception5a", 256, 160, 320, 32, 128, 128)
    _inception(b, "inception5b", 384, 192, 384, 48, 128, 128)
    b.globalavgpool(name="avgpool")
    b.flatten()
    b.dropout(0.2)
    last = b.linear(1000, name="fc")
    if aux:
        _aux(b, "aux1", a4)
        _aux(b, "aux2", d4)
    assert last
    return b.graph()


def _fire(b: Builder, squeeze: int, e1: int, e3: int) -> str:
    b.conv(squeeze, k=1)
    s = b.relu()
    b.conv(e1, k=1, inputs=s)
    one = b.relu()
    b.conv(e3, k=3, p=1, inputs=s)
    three = b.relu()
    return b.concat(one, three)


def squeezenet(version: str) -> Graph:
    b = Builder("3x224x224", name=f"squeezenet{version}")
    if version == "1_0":
        b.conv(96, k=7, s=2)
        plan: tuple[object, ...] = ("pool", (16, 64, 64), (16, 64, 64), (32, 128, 128), "pool", (32, 128, 128),
                                    (48, 192, 192), (48, 192, 192), (64, 256, 256), "pool", (64, 256, 256))
    else:
        b.conv(64, k=3, s=2)
        plan = ("pool", (16, 64, 64), (16, 64, 64), "pool", (32, 128, 128), (32, 128, 128), "pool",
                (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))
    b.relu()
    for item in plan:
        if item == "pool":
            b.maxpool(3, s=2, ceil=True)
        else:
            _fire(b, *item)  # type: ignore[misc]
    b.dropout(0.5)
    b.conv(1000, k=1)
    b.relu()
    b.adaptiveavgpool(1)
    b.flatten()
    return b.graph()


def vgg11() -> Graph:
    b = Builder("3x224x224", name="vgg11")
    for item in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if item == "M":
            b.maxpool(2, s=2)
        else:
            b.conv(item, k=3, p=1)
            b.relu()
    b.adaptiveavgpool(7)
    b.flatten()
    for out in (4096, 4096):
        b.linear(out)
        b.relu()
        b.dropout(0.5)
    b.linear(1000)
    return b.graph()


#: torchvision name -> builder
NETS: dict[str, Callable[[], Graph]] = {
    "alexnet": alexnet,
    "resnet18": resnet18,
    "googlenet": lambda: googlenet(aux=True),
    "squeezenet1_0": lambda: squeezenet("1_0"),
    "squeezenet1_1": lambda: squeezenet("1_1"),
    "vgg11": vgg11,
}
