"""The layer kinds the mobile-era zoo added, against PyTorch: ``shuffle``, ``chunk``,
``stochasticdepth``, ``linear pointwise``; and ``softmax``, which the zoo's MobileNet V1 ends with."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netarith import Builder, NetarithError, ShapeError, analyze, parse, to_torch
from netarith.notation import to_notation

pytestmark = pytest.mark.torch


def _run(torch: ModuleType, text: str, x: object, train: bool = False) -> dict[str, object]:
    module = to_torch(text)
    module.train(train)
    with torch.no_grad():
        outputs: dict[str, object] = module(x, return_all=True)
    return outputs


# ------------------------------------------------------------------------- shuffle


@settings(max_examples=60, deadline=None)
@given(groups=st.integers(1, 6), per_group=st.integers(1, 5), h=st.integers(1, 4))
def test_shuffle_interleaves_the_groups(torch: ModuleType, groups: int, per_group: int, h: int) -> None:
    channels = groups * per_group
    text = f"{channels}x{h}x3 | s: shuffle {groups}"
    report = analyze(text)
    assert report["s"].shape.dims == (channels, h, 3) and report.totals.params == 0
    x = torch.randn(2, channels, h, 3)
    # ShuffleNet's channel_shuffle: view as (groups, C/groups), transpose, flatten.
    expected = x.view(2, groups, per_group, h, 3).transpose(1, 2).reshape(2, channels, h, 3)
    assert torch.equal(_run(torch, text, x)["s"], expected)


def test_shuffle_refuses_groups_that_do_not_divide(torch: ModuleType) -> None:
    with pytest.raises(ShapeError, match="3 groups do not divide the 4 channels"):
        analyze("4x2x2 | shuffle 3")
    with pytest.raises(RuntimeError):
        torch.nn.ChannelShuffle(3)(torch.randn(1, 4, 2, 2))


# ------------------------------------------------------------------------- chunk


@settings(max_examples=300, deadline=None)
@given(dims=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9)),
       chunks=st.integers(1, 6), index=st.integers(0, 6), dim=st.sampled_from([1, 2, 3, -1]))
def test_chunk_is_torch_chunk(torch: ModuleType, dims: tuple[int, int, int], chunks: int, index: int,
                              dim: int) -> None:
    x = torch.randn(1, *dims)
    pieces = torch.chunk(x, chunks, dim)
    text = f"{'x'.join(map(str, dims))} | c: chunk {chunks} i{index} dim={dim}"
    if index >= len(pieces):
        with pytest.raises(ShapeError, match="no piece"):
            analyze(text)
        return
    assert analyze(text)["c"].shape.dims == tuple(pieces[index].shape[1:])
    assert torch.equal(_run(torch, text, x)["c"], pieces[index])


def test_chunk_of_a_spatial_axis_shifts_the_receptive_field() -> None:
    # The second half of 8 columns starts at column 4: its first output sees column 4.
    rf = analyze("1x8x8 | c: chunk 2 i1 dim=3").to_dict()["layers"][1]["receptive_field"]
    assert rf == {"size": [1, 1], "jump": [1, 1], "start": [0.0, 4.0]}


# ------------------------------------------------------------------------- stochastic depth


def test_stochastic_depth_is_the_identity_at_inference(torch: ModuleType) -> None:
    text = "4x3x3 | a: stochasticdepth 0.3 | b: droppath 0.7 mode=batch"
    report = analyze(text)
    assert [r.shape.dims for r in report.layers[1:]] == [(4, 3, 3)] * 2
    assert report.totals.params == report.totals.macs == 0
    x = torch.randn(5, 4, 3, 3)
    assert torch.equal(_run(torch, text, x)["b"], x)


def test_stochastic_depth_in_training_drops_whole_samples(torch: ModuleType) -> None:
    torch.manual_seed(1)
    x = torch.rand(64, 2, 2, 2) + 1
    row = _run(torch, "2x2x2 | d: stochasticdepth 0.5", x, train=True)["d"]
    kept = [bool(torch.equal(row[i], 2 * x[i])) for i in range(64)]
    dropped = [bool(torch.all(row[i] == 0)) for i in range(64)]
    assert all(k != d for k, d in zip(kept, dropped)) and any(kept) and any(dropped)
    batch = _run(torch, "2x2x2 | d: stochasticdepth 0.5 mode=batch", x, train=True)["d"]
    assert torch.equal(batch, 2 * x) or bool(torch.all(batch == 0))
    assert bool(torch.all(_run(torch, "2x2x2 | d: stochasticdepth 1", x, train=True)["d"] == 0))


def test_stochastic_depth_probability_is_checked() -> None:
    with pytest.raises(NetarithError, match="between 0 and 1"):
        parse("3x4x4 | stochasticdepth 1.5")


# ------------------------------------------------------------------------- channels-last MLP


def test_pointwise_linear_counts_as_linear_without_the_warning(torch: ModuleType) -> None:
    plain = analyze("8x5x5 | permute 0 2 3 1 | l: linear 32")
    pointwise = analyze("8x5x5 | permute 0 2 3 1 | l: linear 32 pointwise")
    assert plain["l"].warnings and not pointwise["l"].warnings
    assert pointwise["l"].shape.dims == plain["l"].shape.dims == (5, 5, 32)
    assert (pointwise["l"].params, pointwise["l"].macs) == (plain["l"].params, plain["l"].macs) == (288, 6400)
    module = to_torch("8x5x5 | permute 0 2 3 1 | l: linear 32 pointwise")
    assert sum(p.numel() for p in module.parameters()) == 288
    graph = parse("8x5x5 | permute 0 2 3 1 | l: linear 32 pointwise")
    assert parse(to_notation(graph)) == graph


def test_softmax_layers_analyse(torch: ModuleType) -> None:
    text = "3x4x4 | s: softmax | t: logsoftmax dim=2"
    report = analyze(text)
    outputs = _run(torch, text, torch.randn(1, 3, 4, 4))
    assert [report[n].shape.dims for n in "st"] == [tuple(outputs[n].shape[1:]) for n in "st"]  # type: ignore[attr-defined]


def test_builder_writes_the_new_kinds() -> None:
    b = Builder("4x6x6")
    b.chunk(2, i=1, name="half")
    b.shuffle(2, name="mixed")
    b.stochasticdepth(0.1, mode="batch", name="sd")
    graph = b.graph()
    assert to_notation(graph).splitlines()[1:] == [
        "half: chunk 2 i1", "mixed: shuffle 2", "sd: stochasticdepth 0.1 mode=batch",
    ]
