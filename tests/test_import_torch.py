"""The PyTorch importer against PyTorch itself.

Each model of ``tests/torch_models.py`` (together they use every module and function
the importer knows) is read without weights and compared with the same model run for
real: parameters with the module's own count, MACs with ``torch.utils.flop_counter``
(conv, linear, matmul; attention on the math backend, whose products it sees), and
the output shape of every call of every leaf module with the real forward pass.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest

import netarith
from netarith import MissingExtraError, SourceError, analyze
from netarith.cli import main

from . import torch_models as TM

pytestmark = pytest.mark.torch

COUNTED = [name for name in TM.INPUTS if name != "unknown_op_net"]


def _size(name: str) -> str:
    return "x".join(map(str, TM.INPUTS[name]))


def _real_run(torch: ModuleType, model: Any, size: tuple[int, ...]) -> tuple[int, dict[str, tuple[int, ...]], Any]:
    """MACs by PyTorch's flop counter, and each leaf module call's output shape (batch 1)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}
    handles = []
    for path, module in model.named_modules():
        if any(True for _ in module.children()):
            continue

        def hook(mod: Any, args: Any, out: Any, path: str = path or type(module).__name__.lower()) -> None:
            calls[path] = calls.get(path, 0) + 1
            key = path if calls[path] == 1 else f"{path}@{calls[path]}"
            if isinstance(out, torch.Tensor):
                shapes[key] = tuple(out.shape)

        handles.append(module.register_forward_hook(hook))
    # Gradients on: nn.MultiheadAttention then skips its fused kernel, which the counter misses.
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.randn(1, *size))
    for handle in handles:
        handle.remove()
    return counter.get_total_flops() // 2, shapes, out


def _matches(per_sample: tuple[int, ...], real: tuple[int, ...]) -> bool:
    """A per-sample shape agrees with a batch-1 tensor: the same, or with one axis of 1 left out."""
    candidates = {real} | {real[:j] + real[j + 1:] for j, d in enumerate(real) if d == 1}
    return per_sample in candidates


@pytest.mark.parametrize("name", COUNTED)
def test_models_match_pytorch(torch: ModuleType, name: str) -> None:
    factory = getattr(TM, name)
    from netarith.importers.torch import trace_torch

    result = trace_torch(factory, _size(name))
    report = analyze(result.graph)
    torch.manual_seed(0)
    model = factory()
    macs, shapes, out = _real_run(torch, model, TM.INPUTS[name])
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == macs
    assert report.totals.not_counted == ()
    assert result.notes == ()
    assert set(result.leaves) == set(shapes)
    for call, node in result.leaves.items():
        assert _matches(report[node].shape.dims, shapes[call]), (call, node, report[node].shape, shapes[call])
    outputs = {n.name for n in report.graph.outputs if not n.train_only}
    (final,) = [r for r in report if r.name in outputs]
    assert _matches(final.shape.dims, tuple(out.shape))


def test_names_follow_modules_and_functions(torch: ModuleType) -> None:
    graph = netarith.from_torch(TM.transformer, "3x16x16")
    names = [n.name for n in graph]
    assert names[:2] == ["input", "stem"]
    for name in ("cls", "pos", "attn.q", "attn.k", "attn.v", "attn.attention", "attn.out_proj", "mlp.0", "head"):
        assert name in graph
    assert graph["attn.attention"].op.kind == "attention"
    assert graph["cls"].op.kind == "tensor" and graph["cls"].origin == "tensor"
    assert graph["stem"].origin == "module:Conv2d"
    assert graph["cat"].origin == "function:torch.cat"
    assert graph["getitem"].op.kind == "select"


def test_repeated_module_calls_get_numbered_names(torch: ModuleType) -> None:
    from torch import nn

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x: Any) -> Any:
            return self.relu(self.conv(self.relu(x)))

    graph = netarith.from_torch(Twice(), "3x8x8")
    assert [n.name for n in graph] == ["input", "relu", "conv", "relu@2"]


def test_unknown_op_is_listed_and_not_counted(torch: ModuleType) -> None:
    report = analyze(netarith.from_torch(TM.unknown_op_net, _size("unknown_op_net")))
    layer = report["cumsum"]
    assert layer.kind == "opaque" and layer.shape.dims == (4, 6, 6) and layer.uncounted == ("macs", "connections")
    assert report.totals.not_counted == ("cumsum",)
    assert "not counted" in report.to_json() and "not counted" in netarith.report.render(report, "table")
    assert json.loads(report.to_json())["layers"][-1]["not_counted"] == ["macs", "connections"]


def test_training_only_branch(torch: ModuleType) -> None:
    graph = netarith.from_torch(TM.aux_net, _size("aux_net"))
    aux = [n.name for n in graph if n.train_only]
    assert aux == ["aux.0", "aux.1", "aux.2"]
    eval_report, train_report = analyze(graph), analyze(graph, mode="train")
    assert eval_report["aux.2"].macs == 0 and train_report["aux.2"].macs == 32 * 5
    assert any("runs only in training" in w for w in eval_report["aux.2"].warnings)
    assert eval_report.totals.params == sum(p.numel() for p in TM.aux_net().parameters())


def test_parameters_never_get_storage(torch: ModuleType) -> None:
    from netarith.importers.torch import build_meta

    for factory in (TM.conv_net, TM.computed_widths_net, TM.item_in_init_net, TM.transformer):
        model = build_meta(factory)
        assert all(t.is_meta for t in (*model.parameters(), *model.buffers())), factory.__name__


def test_a_module_instance_is_left_untouched(torch: ModuleType) -> None:
    model = TM.conv_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    netarith.from_torch(model, _size("conv_net"))
    after = model.state_dict()
    assert all(not v.is_meta and torch.equal(v, after[k]) for k, v in before.items())


def test_a_layer_subclass_with_other_parameters_is_traced(torch: ModuleType) -> None:
    from torch import nn

    class ScaledConv(nn.Conv2d):
        def __init__(self) -> None:
            super().__init__(3, 4, 3)
            self.scale = nn.Parameter(torch.ones(4, 1, 1))

        def forward(self, x: Any) -> Any:
            return super().forward(x) * self.scale

    report = analyze(netarith.from_torch(ScaledConv(), "3x8x8"))
    assert report.totals.params == 3 * 4 * 9 + 4 + 4
    assert report.totals.macs == 4 * 6 * 6 * 27


def test_cli_reads_a_factory(torch: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "tests.torch_models:conv_net", "--input", "3x24x24", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["params"] == sum(p.numel() for p in TM.conv_net().parameters())
    assert main(["analyze", "tests.torch_models:conv_net"]) == 2
    assert "--input 3x224x224" in capsys.readouterr().err
    assert main(["analyze", "tests.torch_models:no_such_net", "-i", "3x8x8"]) == 2
    assert "has no 'no_such_net'" in capsys.readouterr().err


def test_errors_are_netarith_errors(torch: ModuleType) -> None:
    from torch import nn

    with pytest.raises(SourceError, match=r"running Sequential on a 3x3x3 input .* Kernel size can't be greater"):
        netarith.from_torch(nn.Sequential(nn.Conv2d(3, 4, 5)), "3x3x3")
    with pytest.raises(SourceError, match=r"running transformer on a 3x8x8 input .* failed"):
        netarith.from_torch(TM.transformer, "3x8x8")
    with pytest.raises(SourceError, match=r"nn\.Module or a function"):
        netarith.from_torch(42, "3x8x8")


def test_without_torch_the_message_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import netarith\n"
        "try:\n"
        "    netarith.from_torch(lambda: None, '3x8x8')\n"
        "except netarith.MissingExtraError as e:\n"
        "    print(e.extra, '|', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("torch |") and "pip install 'netarith[torch]'" in out
    assert issubclass(MissingExtraError, netarith.NetarithError)


def test_macs_match_torchvision_style_counting(torch: ModuleType) -> None:
    """A hand count for one layer of each product kind, as a second oracle."""
    report = analyze(netarith.from_torch(TM.attention_net, _size("attention_net")))
    n, c, heads = 8, 12, 2
    d = c // heads
    assert report["qkv"].macs == n * c * 3 * c
    assert report["attention"].macs == heads * n * n * (d + d)
    assert report["einsum"].macs == heads * n * n * d
    assert math.prod(report["proj"].shape.dims) == n * c
