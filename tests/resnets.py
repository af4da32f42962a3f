"""ResNet built in the tests with the Builder (He et al., CVPR 2016, Table 1), for the drawing tests.

The zoo has its own ResNets; this copy keeps the drawing tests independent of it.
"""

from __future__ import annotations

from netarith import Builder, Graph

#: bottleneck blocks per stage (He et al. 2016, Table 1)
STAGES = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}


def resnet(name: str = "resnet152") -> Graph:
    b = Builder("3x224x224", name=name)
    b.conv(64, k=7, s=2, p=3, bias=False, name="conv1")
    b.bn(name="bn1")
    b.relu(name="relu")
    x = b.maxpool(3, s=2, p=1, name="maxpool")
    for stage, blocks in enumerate(STAGES[name], 1):
        width = 64 * 2 ** (stage - 1)
        for i in range(blocks):
            stride = 2 if i == 0 and stage > 1 else 1
            with b.scope(f"layer{stage}.{i}"):
                b.conv(width, k=1, bias=False, name="conv1", inputs=x)
                b.bn(name="bn1")
                b.relu(name="relu1")
                b.conv(width, k=3, s=stride, p=1, bias=False, name="conv2")
                b.bn(name="bn2")
                b.relu(name="relu2")
                b.conv(4 * width, k=1, bias=False, name="conv3")
                main = b.bn(name="bn3")
                short = x
                if i == 0:
                    b.conv(4 * width, k=1, s=stride, bias=False, name="downsample", inputs=x)
                    short = b.bn(name="downsample_bn")
                b.add(main, short, name="add")
                x = b.relu(name="out")
    b.adaptiveavgpool(1, name="avgpool")
    b.flatten(name="flatten")
    b.linear(1000, name="fc")
    return b.graph()
