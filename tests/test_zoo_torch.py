"""Every family's models, built in PyTorch through ``to_torch`` and run: each layer's output
shape must be the analysis's, and the module's parameter and buffer counts its totals.

Small inputs where the network allows them (torchvision's ``min_size``), so the real
CPU kernels run in milliseconds. Networks whose fully connected layers hold 100M+
parameters, or that need their full input (Caffe's fixed 7x7 pool5), run on PyTorch's
``meta`` device: the same shape functions, no memory and no arithmetic.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from netarith import analyze, to_torch, zoo

pytestmark = pytest.mark.torch

# (model, input or None for the default, device): at least one model per family and one per
# rounding convention the zoo uses (pytorch, caffe, cuda-convnet).
CASES = [
    ("lenet5", None, "cpu"),
    ("alexnet", "3x63x63", "meta"), ("alexnet-paper", None, "meta"), ("caffenet", None, "meta"),
    ("zfnet", None, "meta"),
    ("vgg11_bn", "3x32x32", "meta"), ("vgg-c", None, "meta"),
    ("resnet18", "3x32x32", "cpu"), ("resnext50_32x4d", "3x64x64", "cpu"), ("wide_resnet50_2", "3x33x33", "meta"),
    ("resnet50-paper", None, "meta"),
    ("densenet121", "3x29x29", "cpu"),
    ("googlenet", "3x15x15", "cpu"), ("googlenet-paper", None, "cpu"),
    ("inception_v3", None, "meta"),
    ("squeezenet1_0", "3x21x21", "cpu"), ("squeezenet1_1", "3x17x17", "cpu"), ("squeezenet-paper", None, "cpu"),
]


def test_every_family_is_covered() -> None:
    families = {zoo.get(name).family for name, _, _ in CASES}
    classic = {"alexnet", "lenet", "vgg", "resnet", "densenet", "googlenet", "inception", "squeezenet"}
    assert classic <= families


@pytest.mark.parametrize(("name", "shape", "device"), CASES)
def test_layer_shapes_and_counts_agree_with_pytorch(torch: ModuleType, name: str, shape: str | None,
                                                    device: str) -> None:
    graph = zoo.build(name)
    if shape is not None:
        graph = graph.with_input(shape)
    report = analyze(graph, mode="train")  # every layer, the auxiliary heads' included
    with torch.device(device):
        module = to_torch(graph)
        module.eval()
        x = torch.randn(1, *report.input.dims)
        with torch.no_grad():
            outputs = module(x, return_all=True)
    wrong = [(r.name, r.shape.dims, tuple(outputs[r.name].shape[1:])) for r in report
             if tuple(outputs[r.name].shape[1:]) != r.shape.dims]
    assert wrong == []
    assert len(outputs) == len(report)
    assert sum(p.numel() for p in module.parameters()) == report.totals.params
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert trainable == report.totals.trainable_params
    assert sum(b.numel() for b in module.buffers()) == report.totals.buffers
