"""One recorded pass with batch-3 twins, against two separate passes (batch 2, batch 3).

The oracle of every batch-3 shape is PyTorch running the same model on a batch-3 meta
input, alone; the oracle of the per-sample shapes is PyTorch running it on a real batch-1
input. Models whose code reads the batch must end the twins and still read exactly.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

import netarith
from netarith import SourceError

pytestmark = pytest.mark.torch


def _record(torch: ModuleType, model: Any, size: tuple[int, ...], twins: bool, batch: int = 2) -> Any:
    from netarith.importers._torch_trace import record

    x = torch.empty(batch, *size, device="meta")
    x3 = torch.empty(3, *size, device="meta") if twins else None
    return record(model.eval(), x, lambda m, t: None, set(), x3=x3)


def _models(torch: ModuleType) -> dict[str, tuple[Any, tuple[int, ...]]]:
    from torch import nn

    class Folded(nn.Module):
        """The batch folded into the first axis and back, without reading a size."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.fc = nn.Linear(8, 4)

        def forward(self, x: Any) -> Any:
            y = self.conv(x).permute(0, 2, 3, 1).reshape(-1, 8)  # (N*H*W) x 8
            y = self.fc(y).softmax(-1)
            return torch.cat([y, y * 2], dim=1).sum(0)

    class Split(nn.Module):
        def forward(self, x: Any) -> Any:
            a, b = x.chunk(2, dim=1)
            return torch.relu(a) + b.mean((2, 3), keepdim=True)

    return {
        "plain": (nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                nn.Flatten(), nn.Linear(8, 5)), (3, 12, 12)),
        "folded": (Folded(), (3, 6, 6)),
        "split": (Split(), (4, 5, 5)),
    }


@pytest.mark.parametrize("name", ["plain", "folded", "split"])
def test_twins_give_the_shapes_of_a_batch_3_pass(torch: ModuleType, name: str) -> None:
    model, size = _models(torch)[name]
    both = _record(torch, model, size, twins=True)
    alone = _record(torch, model, size, twins=False, batch=3)
    assert both.diverged == ""
    assert [e.name for e in both.events] == [e.name for e in alone.events]
    assert [e.outputs3 for e in both.events] == [e.outputs for e in alone.events]
    assert any(e.outputs != e.outputs3 for e in both.events)


class _Reads:
    """Models whose code sees the batch."""

    @staticmethod
    def size(torch: ModuleType) -> Any:
        from torch import nn

        class ViewBySize(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.fc = nn.Linear(4 * 6 * 6, 10)

            def forward(self, x: Any) -> Any:
                y = self.conv(x)
                return self.fc(y.view(y.shape[0], -1))

        return ViewBySize()

    @staticmethod
    def unseen(torch: ModuleType) -> Any:
        from torch import nn

        class Plain(nn.Module):
            """A tensor attribute that is neither a parameter nor a buffer."""

            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.scale = torch.ones(1, 4, 1, 1)

            def forward(self, x: Any) -> Any:
                return self.conv(x) * self.scale.to(x.device)

        return Plain()


@pytest.mark.parametrize("kind", ["size", "unseen"])
def test_a_model_that_sees_the_batch_is_read_in_two_passes(torch: ModuleType, kind: str) -> None:
    model = getattr(_Reads, kind)(torch)
    assert _record(torch, model, (3, 8, 8), twins=True).diverged != ""
    report = netarith.analyze(netarith.from_torch(model, "3x8x8"))
    real = model.eval()(torch.randn(1, 3, 8, 8))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    last = report.layers[-1]
    assert (1, *last.shape.dims) == tuple(real.shape) or last.shape.dims == tuple(real.shape)


def test_a_model_that_runs_per_sample_is_refused(torch: ModuleType) -> None:
    from torch import nn

    class Loop(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: Any) -> Any:
            return torch.stack([self.fc(x[i]) for i in range(x.shape[0])])

    with pytest.raises(SourceError, match="runs differently at batch 2 and"):
        netarith.from_torch(Loop(), "4")


def test_the_garbage_collector_is_left_as_it_was(torch: ModuleType) -> None:
    import gc

    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert gc.isenabled()
    netarith.from_torch(model, "3x8x8")
    assert gc.isenabled()
    gc.disable()
    try:
        netarith.from_torch(model, "3x8x8")
        assert not gc.isenabled()
        with pytest.raises(SourceError):
            netarith.from_torch(model, "5x8x8")  # 3 channels expected
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(SourceError):
        netarith.from_torch(model, "5x8x8")
    assert gc.isenabled()
