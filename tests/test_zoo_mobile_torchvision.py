"""The mobile-era zoo against torchvision's own modules, layer by layer (needs torchvision).

torchvision is not in the test venv (it pins a different torch); run this file in the
venv that has it::

    PYTHONPATH=src /work/main/.venv-tv/bin/python -m pytest -q -p no:cacheprovider \
        tests/test_zoo_mobile_torchvision.py

Each torchvision model is built on PyTorch's ``meta`` device (shapes without memory,
so regnet_y_128gf's 645 million parameters cost nothing) and run on an input of the
zoo model's default size. Every module that holds parameters must be a zoo layer of
the same name with the same parameter and buffer counts, every zoo layer with
parameters must be such a module (or, for a bare parameter such as ConvNeXt's layer
scale, carry the parameter's name), and every module whose name is a zoo layer's name
must produce that layer's shape.
"""

from __future__ import annotations

from typing import Any

import pytest

from netarith import analyze
from netarith.zoo import registry

torchvision = pytest.importorskip("torchvision")
torch = pytest.importorskip("torch")

MODELS = [e.name for e in registry.entries()
          if e.family in ("mobilenet", "shufflenet", "mnasnet", "efficientnet", "regnet", "convnext")
          and e.source.startswith("torchvision")]


def _meta_model(name: str) -> Any:
    from torchvision.models import regnet

    original = regnet.BlockParams.from_init_params.__func__

    def on_cpu(cls: Any, *args: Any, **kwargs: Any) -> Any:
        # RegNet computes its widths with real tensors; only the modules go to meta.
        with torch.device("cpu"):
            return original(cls, *args, **kwargs)

    regnet.BlockParams.from_init_params = classmethod(on_cpu)
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(name)
    finally:
        regnet.BlockParams.from_init_params = classmethod(original)
    return model.eval()


def _owner(tensor_name: str) -> str:
    """The layer a tensor belongs to: its module for weights, biases and statistics; the
    tensor itself for a bare parameter (ConvNeXt's ``features.1.0.layer_scale``)."""
    module, _, attr = tensor_name.rpartition(".")
    if attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        return module
    return tensor_name


@pytest.mark.parametrize("name", MODELS)
def test_layers_match_torchvision(name: str) -> None:
    entry = registry.get(name)
    report = analyze(name)
    ours = {r.name: r for r in report.layers}
    model = _meta_model(name)

    held: dict[str, list[int]] = {}
    for tensor_name, tensor in model.named_parameters():
        held.setdefault(_owner(tensor_name), [0, 0])[0] += tensor.numel()
    for tensor_name, tensor in model.named_buffers():
        held.setdefault(_owner(tensor_name), [0, 0])[1] += tensor.numel()
    for module_name, (params, buffers) in held.items():
        assert module_name in ours, f"{name}: torchvision's {module_name} is not a zoo layer"
        assert [ours[module_name].params, ours[module_name].buffers] == [params, buffers], module_name
    for layer in report.layers:
        if layer.params:
            assert layer.name in held, f"{name}: zoo layer {layer.name} holds parameters torchvision does not"
    assert sum(p.numel() for p in model.parameters()) == report.totals.params

    shapes: dict[str, tuple[int, ...]] = {}

    def hook(module_name: str) -> Any:
        def record(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor):
                shapes[module_name] = tuple(output.shape[1:])
        return record

    for module_name, module in model.named_modules():
        if module_name:
            module.register_forward_hook(hook(module_name))
    with torch.no_grad():
        model(torch.empty(1, *report.input.dims, device="meta"))
    compared = 0
    for module_name, shape in shapes.items():
        if module_name in ours:
            assert ours[module_name].shape.dims == shape, module_name
            compared += 1
    leaves = [n for n, m in model.named_modules() if n and not list(m.children()) and n in shapes]
    assert all(n in ours for n in leaves), [n for n in leaves if n not in ours][:5]
    assert compared >= len(leaves) > 0
    assert entry.input == "x".join(map(str, report.input.dims))


@pytest.mark.parametrize("name", MODELS)
def test_default_input_is_the_default_weights_crop(name: str) -> None:
    entry = registry.get(name)
    weights = torchvision.models.get_model_weights(name).DEFAULT
    crop = weights.transforms().crop_size[0]
    assert entry.input == f"3x{crop}x{crop}"
    assert str(weights) in entry.source
