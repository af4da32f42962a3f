"""A torchvision module read as it is (its real weights untouched, each call on them made from
shapes) against the same module read from a copy on the meta device, where PyTorch runs every
call it is not told the output of: the same graph, leaf map and notes, node for node."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from netarith.importers import torch as importer  # noqa: E402
from netarith.importers._torch_reader import read  # noqa: E402
from netarith.importers._torch_trace import NeedsCopy  # noqa: E402
from netarith.shape import Shape  # noqa: E402

#: read without a copy (each rule of _torch_shapes and _torch_meta is used by one of them)
AS_IS = ["alexnet", "vgg11_bn", "resnet18", "resnet50", "densenet121", "efficientnet_b0", "mobilenet_v3_small",
         "mnasnet0_5", "regnet_y_400mf", "squeezenet1_0", "efficientnet_v2_s"]
#: a call PyTorch must run reads their weights: read from the copy
COPIED = ["shufflenet_v2_x0_5", "convnext_tiny", "googlenet", "swin_t", "vit_b_32"]


def _module(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet warns about its initialisation
        return torchvision.models.get_model(name).eval()


@pytest.mark.parametrize("name", AS_IS + COPIED)
def test_as_is_and_copied_alike(name: str) -> None:
    model = _module(name)
    shape = Shape.parse("3x224x224")
    copied = read(torch, importer.meta_copy(model), shape, name)
    try:
        as_is = read(torch, model, shape, name, guard=True)
    except NeedsCopy:
        assert name in COPIED
        return
    assert name in AS_IS
    assert as_is == copied


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "efficientnet_b0"])
def test_read_without_a_copy(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _module(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    monkeypatch.setattr(importer, "meta_copy", lambda m: pytest.fail("copied"))
    importer.from_torch(model, "3x224x224")
    after = model.state_dict()
    assert all(not v.is_meta and torch.equal(v, after[k]) for k, v in before.items())
