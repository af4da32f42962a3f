"""Optional tier: the zoo's torchvision models against torchvision's own modules.

The classic families' torchvision models. Runs only where torchvision is installed
(here: /work/main/.venv-tv, torch 2.14.1 and torchvision 0.29.1)::

    PYTHONPATH=src /work/main/.venv-tv/bin/python -m pytest -q -p no:cacheprovider tests/test_zoo_torchvision.py

Each torchvision model is built as its ImageNet weights load it (GoogLeNet without its
auxiliary heads, Inception v3 with its one), on the ``meta`` device, and run with forward
hooks: every convolution, batch norm, linear and pooling module must be a layer of the
same name in the zoo's graph with the same output shape, every such layer must be a
module, and the parameter and buffer counts must agree.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from netarith import analyze, zoo

torchvision = pytest.importorskip("torchvision")
torch = pytest.importorskip("torch")

META = Path(__file__).parent / "data" / "torchvision_meta.csv"
#: The classic families' modules (the mobile families have tests/test_zoo_mobile_torchvision.py).
_FAMILIES = {"alexnet", "vgg", "resnet", "densenet", "googlenet", "inception", "squeezenet"}
with open(META, newline="") as _f:
    NAMES = sorted(name for name in {row["model"] for row in csv.DictReader(_f)} & set(zoo.names())
                   if zoo.get(name).family in _FAMILIES)

_SHAPED = ("Conv2d", "BatchNorm2d", "Linear", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout")
#: How torchvision builds each model when its ImageNet weights load.
_KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": True, "init_weights": False},
}


@pytest.mark.parametrize("name", NAMES)
def test_torchvision_modules_match_the_zoo_layer_by_layer(name: str) -> None:
    graph = zoo.build(name)
    report = analyze(graph, mode="train")
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, **_KWARGS.get(name, {}))
    model.train(name == "inception_v3")  # the auxiliary head runs only in training
    seen: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}

    def hook(module_name: str) -> Any:
        def record(module: Any, args: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor):
                seen[module_name] = tuple(output.shape[1:])
                calls[module_name] = calls.get(module_name, 0) + 1
        return record

    modules = {n: m for n, m in model.named_modules() if type(m).__name__ in _SHAPED}
    for module_name, module in modules.items():
        module.register_forward_hook(hook(module_name))
    with torch.no_grad():
        model(torch.empty(2, *report.input.dims, device="meta"))
    ours = {r.name: r.shape.dims for r in report}
    missing = [m for m in modules if m not in ours]
    assert missing == [], "torchvision modules without a layer of that name"
    wrong = [(m, seen[m], ours[m]) for m in modules if calls.get(m) == 1 and seen[m] != ours[m]]
    assert wrong == []
    assert sum(calls.get(m, 0) == 1 for m in modules) >= len(modules) - 3  # shared modules are skipped
    kinds = {"Conv2d": "conv", "BatchNorm2d": "bn", "Linear": "linear"}
    for layer in report:
        if layer.kind in kinds.values():
            assert layer.name in modules, f"{layer.name} is not a torchvision module"
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(b.numel() for b in model.buffers()) == report.totals.buffers
