"""Every torchvision classification model, read without weights by ``from_torch``, against
torchvision's own metadata (``num_params``, ``_ops`` to its three decimals), the model's
own parameter count, the output shape of every leaf module in a real forward pass, the
memory a 645M-parameter model takes to read, and the counting tools' totals."""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import netarith  # noqa: E402
from netarith.importers.torch import TorchImport, build_meta, trace_torch  # noqa: E402

from .conftest import rows  # noqa: E402

MODELS = sorted({r["model"] for r in rows()})
ROWS = [pytest.param(r, id=f"{r['model']}-{r['weights'].split('.')[-1]}") for r in rows()]


def _factory(name: str) -> Any:
    return getattr(torchvision.models, name)


@functools.lru_cache(maxsize=4)
def _imported(name: str, size: int) -> TorchImport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet and inception warn about their initialisation
        return trace_torch(_factory(name), f"3x{size}x{size}")


@functools.cache
def _own_params(name: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(p.numel() for p in build_meta(_factory(name)).parameters())


def test_every_classification_model_is_in_the_metadata() -> None:
    listed = set(torchvision.models.list_models(module=torchvision.models))
    assert listed == set(MODELS)


@pytest.mark.parametrize("row", ROWS)
def test_params_and_macs(row: dict[str, str]) -> None:
    name, size = row["model"], int(row["crop_size"])
    own = _own_params(name)
    if own != int(row["num_params"]) and name != "googlenet":
        pytest.skip(f"{row['weights']} needs a factory argument (its model has {row['num_params']} parameters)")
    result = _imported(name, size)
    report = netarith.analyze(result.graph)
    assert report.totals.params == own
    assert f"{report.totals.macs / 1e9:.3f}" == f"{float(row['gflops']):.3f}"
    assert report.totals.not_counted == () and result.notes == ()
    if name == "googlenet":
        # Built without weights it keeps its two auxiliary heads, which eval mode never runs.
        aux = {n.name for n in result.graph if n.train_only}
        assert aux and all(n.startswith(("aux1.", "aux2.")) for n in aux)
        assert own - sum(report[n].params for n in aux) == int(row["num_params"])
        assert all(report[n].macs == 0 for n in aux)


def _size(name: str) -> int:
    """The input of the first metadata row that fits the model its factory builds."""
    own = _own_params(name)
    return next(int(r["crop_size"]) for r in rows()
                if r["model"] == name and (int(r["num_params"]) == own or name == "googlenet"))


def _matches(per_sample: tuple[int, ...], real: tuple[int, ...]) -> bool:
    candidates = {real} | {real[:j] + real[j + 1:] for j, d in enumerate(real) if d == 1}
    return per_sample in candidates


@pytest.mark.parametrize("name", MODELS)
def test_leaf_shapes_match_a_real_forward_pass(name: str) -> None:
    size = _size(name)
    result = _imported(name, size)
    report = netarith.analyze(result.graph)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _factory(name)().eval()
    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}
    for path, module in model.named_modules():
        if any(True for _ in module.children()):
            continue

        def hook(mod: Any, args: Any, out: Any, path: str = path) -> None:
            calls[path] = calls.get(path, 0) + 1
            if isinstance(out, torch.Tensor):
                shapes[path if calls[path] == 1 else f"{path}@{calls[path]}"] = tuple(out.shape)

        module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.randn(1, 3, size, size))
    assert set(result.leaves) == set(shapes)
    wrong = [(c, report[n].shape.dims, shapes[c]) for c, n in result.leaves.items()
             if not _matches(report[n].shape.dims, shapes[c])]
    assert wrong == []


def test_regnet_y_128gf_reads_in_little_memory() -> None:
    # VmHWM, the peak resident memory of this process image (ru_maxrss would carry over the
    # peak of the pytest process it was forked from).
    code = (
        "import re, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import torchvision, netarith\n"
        "graph = netarith.from_torch(torchvision.models.regnet_y_128gf, '3x384x384')\n"
        "report = netarith.analyze(graph)\n"
        "peak = re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
        "print(report.totals.params, report.totals.macs, peak)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    params, macs, peak_kib = map(int, out.split())
    print(f"regnet_y_128gf at 384: {params:,} params, {macs:,} MACs, peak {peak_kib / 1024:.0f} MiB")
    assert params == _own_params("regnet_y_128gf")
    e2e = next(r for r in rows() if r["model"] == "regnet_y_128gf" and r["crop_size"] == "384")
    assert f"{macs / 1e9:.3f}" == f"{float(e2e['gflops']):.3f}"
    assert peak_kib * 1024 < 1.5e9


RECONCILED = ["alexnet", "resnet50", "vgg16", "mobilenet_v2", "densenet121", "googlenet", "inception_v3",
              "squeezenet1_0", "shufflenet_v2_x1_0", "efficientnet_b0", "convnext_tiny", "vit_b_16"]


@pytest.mark.parametrize("name", RECONCILED)
def test_counting_tools(name: str) -> None:
    pytest.importorskip("fvcore")
    from tests.counting_tools import TOOLS, measure

    size = _size(name)
    report = netarith.analyze(_imported(name, size).graph)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _factory(name)()
    measured = measure(model, (3, size, size))
    from netarith.counting import count

    worked_out = {tool: count(report, tool).total for tool in TOOLS}
    print(name, worked_out)
    assert worked_out == measured
