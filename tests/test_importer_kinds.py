"""The kinds the importers added (max, scalar, clip, param, lrn within) and the onnx convention,
each checked against PyTorch running the exported network, and the notation round trip."""

from __future__ import annotations

from types import ModuleType

import pytest

from netarith import NetarithError, analyze, get_convention, parse, to_notation, to_torch

NET = """
model kinds
input 4x9x7
a: lrn 3 k=2.0 within
b: lrn 2 within
c: clip min=0 max=2
d: clip min=-0.5
e: scalar rdiv 1 <- input
f: scalar pow 2
g: scalar sub 0.25
p: tensor 4x9x7 learned
q: tensor 4x1x1 buffer
h: add g p
i: mul h q
j: max i a b
s: sub j a
t: div s c
k: softmax <- t
l: logsoftmax dim=-1
"""


def test_round_trip() -> None:
    g = parse(NET)
    assert parse(to_notation(g)) == g


@pytest.mark.torch
def test_against_pytorch(torch: ModuleType) -> None:
    report = analyze(NET)
    module = to_torch(NET)
    x = torch.randn(2, 4, 9, 7)
    outs = module(x, return_all=True)
    for layer in report:
        got = tuple(outs[layer.name].shape[1:])
        assert got == layer.shape.dims, layer.name
    assert report.totals.params == sum(p.numel() for p in module.parameters()) == 4 * 9 * 7
    assert report["q"].buffers == 4 and report.totals.buffers == 4
    # within-channel LRN as Caffe defines it: x / (k + alpha * mean of the 3x3 squares)^beta
    ref = x / (2.0 + 1e-4 * torch.nn.functional.avg_pool2d(x.pow(2), 3, 1, 1)).pow(0.75)
    assert torch.allclose(outs["a"], ref)
    assert torch.allclose(outs["c"], outs["b"].clamp(0, 2)) and torch.allclose(outs["e"], 1 / x)


def test_softmax_counts() -> None:
    # softmax's analysis used zero-argument super() in a slotted dataclass and crashed
    r = analyze("3x4x4 | softmax | logsoftmax")
    assert [layer.shape.dims for layer in r][1:] == [(3, 4, 4), (3, 4, 4)]


def test_bad_new_kinds() -> None:
    with pytest.raises(NetarithError, match=r"'min' 2\.0 is above 'max' 1\.0"):
        parse("3x4x4 | clip min=2 max=1")
    with pytest.raises(NetarithError, match="dividing by the constant 0"):
        parse("3x4x4 | scalar div 0")
    with pytest.raises(NetarithError, match="cannot max"):
        analyze("input 3x4x4\na: conv 2 k1\nmax input a")


def test_onnx_convention() -> None:
    onnx = get_convention("onnx")
    # onnxruntime (and the onnx reference) drop a ceil-mode window starting in the right padding
    assert analyze("1x32 | maxpool k1 s2 ceil", convention=onnx).layers[1].shape.dims == (1, 16)
    # SAME_UPPER: ceil(i/s), the extra padding at the end, strided too
    assert analyze("1x7x7 | conv 1 k3 s2 same", convention=onnx).layers[1].shape.dims == (1, 4, 4)
    # no PyTorch limit on pooling padding
    assert analyze("1x8x8 | maxpool k2 p1+1", convention=onnx).layers[1].shape.dims == (1, 5, 5)
