"""Modules alike share one op in a graph read from PyTorch; modules that differ do not."""

from __future__ import annotations

from types import ModuleType

import pytest

import netarith

pytestmark = pytest.mark.torch


def test_alike_modules_share_an_op(torch: ModuleType) -> None:
    from torch import nn

    model = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(4, 4, 3, padding=1, bias=False))
    graph = netarith.from_torch(model, "4x8x8")
    assert graph["_0"].op is graph["_2"].op and graph["_1"].op is graph["_3"].op
    assert graph["_4"].op is not graph["_0"].op and graph["_4"].op != graph["_0"].op
    report = netarith.analyze(graph)
    assert report.totals.params == sum(p.numel() for p in model.parameters())


def test_arguments_equal_in_python_but_of_other_types_are_not_confused() -> None:
    from netarith.importers._torch_modules import _op

    assert _op("dropout", p=0.5) is _op("dropout", p=0.5)
    assert _op("conv", out=4, kernel=(3,), bias=True) is not _op("conv", out=4, kernel=(3,), bias=False)
    assert repr(_op("bn", eps=1.0)) == repr(_op("bn", eps=1.0))
    with pytest.raises(netarith.NetarithError):
        _op("conv", out=True, kernel=(3,))  # 1 == True, but a bool is not a channel count
    _op("conv", out=1, kernel=(3,))
    with pytest.raises(netarith.NetarithError):
        _op("conv", out=True, kernel=(3,))  # still refused once out=1 is kept
