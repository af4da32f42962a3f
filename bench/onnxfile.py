"""A 500-node ONNX file for the benchmark, written with onnx's own helpers.

A residual network: a stem (Conv, BatchNormalization, Relu, MaxPool), 70 blocks of
Conv, BatchNormalization, Relu, Conv, BatchNormalization, Add, Relu on 64 maps of 56x56,
and a head (GlobalAveragePool, Flatten, Gemm, Relu, Gemm, Softmax): 4 + 490 + 6 = 500
nodes, 20 MB of weights (zeros), which netarith's reader skips unread.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

NODES = 500
BLOCKS = 70
WIDTH = 64


def build() -> Any:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    weights: list[Any] = []

    def tensor(name: str, *shape: int) -> str:
        weights.append(numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name))
        return name

    def conv(x: str, name: str, cin: int, cout: int, k: int, stride: int) -> str:
        w = tensor(f"{name}.weight", cout, cin, k, k)
        nodes.append(helper.make_node("Conv", [x, w], [name], name=name, kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[k // 2] * 4))
        return name

    def bn(x: str, name: str, c: int) -> str:
        params = [tensor(f"{name}.{p}", c) for p in ("scale", "bias", "mean", "var")]
        nodes.append(helper.make_node("BatchNormalization", [x, *params], [name], name=name))
        return name

    def op(kind: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [name], name=name, **attrs))
        return name

    x = op("Relu", [bn(conv("input", "stem.conv", 3, WIDTH, 7, 2), "stem.bn", WIDTH)], "stem.relu")
    x = op("MaxPool", [x], "stem.pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for b in range(BLOCKS):
        p = f"block{b}"
        y = op("Relu", [bn(conv(x, f"{p}.conv1", WIDTH, WIDTH, 3, 1), f"{p}.bn1", WIDTH)], f"{p}.relu1")
        y = bn(conv(y, f"{p}.conv2", WIDTH, WIDTH, 3, 1), f"{p}.bn2", WIDTH)
        x = op("Relu", [op("Add", [y, x], f"{p}.add")], f"{p}.relu2")
    x = op("Flatten", [op("GlobalAveragePool", [x], "head.pool")], "head.flatten")
    x = op("Relu", [op("Gemm", [x, tensor("fc1.weight", 256, WIDTH), tensor("fc1.bias", 256)], "head.fc1",
                       transB=1)], "head.relu")
    x = op("Softmax", [op("Gemm", [x, tensor("fc2.weight", 1000, 256), tensor("fc2.bias", 1000)], "head.fc2",
                          transB=1)], "head.softmax", axis=1)
    assert len(nodes) == NODES, len(nodes)
    graph = helper.make_graph(
        nodes, "bench500",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 1000])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def write(path: Path) -> Path:
    import onnx

    onnx.save(build(), str(path))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1])))
