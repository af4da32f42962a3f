"""LeNet-5's layer kinds: ``tableconv`` (a connection table), ``subsample`` and ``rbf``.

Each is checked against PyTorch built independently here (per-map convolutions on
the tabled input maps, average pooling plus a per-map scale and shift, a squared
distance to a weight matrix), and through ``to_torch``; the notation round trip
and the refusals are checked too.
"""

from __future__ import annotations

import random
from types import ModuleType

import pytest

from netarith import Builder, NetarithError, ShapeError, analyze, parse, to_notation, to_torch
from netarith.ops.conv import connection_table


def _random_table(rng: random.Random, cin: int, cout: int) -> list[list[int]]:
    return [sorted(rng.sample(range(cin), rng.randint(1, cin))) for _ in range(cout)]


def _tableconv_cases() -> list[tuple[int, tuple[int, ...], list[list[int]], int, int, int]]:
    rng = random.Random(7)
    cases = []
    for _ in range(12):
        rank = rng.choice([1, 2, 2, 3])
        cin, cout = rng.randint(1, 6), rng.randint(1, 6)
        size = tuple(rng.randint(5, 12) for _ in range(rank))
        cases.append((cin, size, _random_table(rng, cin, cout), rng.randint(1, 3), rng.randint(1, 2),
                      rng.randint(0, 2)))
    return cases


@pytest.mark.torch
@pytest.mark.parametrize(("cin", "size", "table", "k", "s", "p"), _tableconv_cases())
def test_tableconv_matches_per_map_convolutions(torch: ModuleType, cin: int, size: tuple[int, ...],
                                                table: list[list[int]], k: int, s: int, p: int) -> None:
    nn = torch.nn
    conv = getattr(nn, f"Conv{len(size)}d")
    maps = [conv(len(row), 1, k, stride=s, padding=p) for row in table]
    x = torch.randn(1, cin, *size)
    expected = torch.cat([m(x[:, row]) for m, row in zip(maps, table)], dim=1)
    params = sum(q.numel() for m in maps for q in m.parameters())

    shape = "x".join(map(str, (cin, *size)))
    g = parse(f"{shape} | c: tableconv {len(table)} k{k} s{s} p{p} table={connection_table(table)}")
    report = analyze(g)
    layer = report["c"]
    assert layer.shape.dims == tuple(expected.shape[1:])
    assert layer.params == params
    # MACs: every output position of map j meets |row j| * k^rank weights.
    assert layer.macs == sum(len(row) for row in table) * k ** len(size) * expected[0, 0].numel()
    module = to_torch(g)
    out = module(x, return_all=True)["c"]
    assert out.shape == expected.shape
    assert sum(q.numel() for q in module.parameters()) == report.totals.params
    assert parse(to_notation(g)) == g


@pytest.mark.torch
@pytest.mark.parametrize(("shape", "k", "s"), [((6, 28, 28), 2, None), ((3, 9, 7), 3, 2), ((4, 10), 2, None),
                                               ((2, 6, 6, 6), 2, 2), ((5, 13, 13), 2, None)])
def test_subsample_matches_pool_plus_per_map_scale(torch: ModuleType, shape: tuple[int, ...], k: int,
                                                   s: int | None) -> None:
    nn = torch.nn
    rank = len(shape) - 1
    pool = getattr(nn, f"AvgPool{rank}d")(k, stride=s or k)
    coefficient_and_bias = getattr(nn, f"Conv{rank}d")(shape[0], shape[0], 1, groups=shape[0])
    x = torch.randn(1, *shape)
    expected = coefficient_and_bias(pool(x))

    text = "x".join(map(str, shape)) + f" | s2: subsample {k}" + (f" s{s}" if s else "")
    g = parse(text)
    layer = analyze(g)["s2"]
    assert layer.shape.dims == tuple(expected.shape[1:])
    assert layer.params == sum(q.numel() for q in coefficient_and_bias.parameters()) == 2 * shape[0]
    window = k ** rank
    assert layer.connections == layer.shape.numel * (window + 1)
    assert layer.macs == 0  # a scale and a shift, recorded as extras, not multiply-accumulates
    module = to_torch(g)
    assert module(x, return_all=True)["s2"].shape == expected.shape
    assert parse(to_notation(g)) == g


@pytest.mark.torch
@pytest.mark.parametrize("trainable", [True, False])
def test_rbf_is_a_squared_distance_to_its_weights(torch: ModuleType, trainable: bool) -> None:
    weights = torch.randn(10, 84)
    x = torch.randn(3, 84)
    expected = ((x[:, None, :] - weights[None]) ** 2).sum(-1)

    g = parse("84 | out: rbf 10" + ("" if trainable else " fixed"))
    report = analyze(g)
    layer = report["out"]
    assert layer.shape.dims == (10,)
    assert layer.params == weights.numel() == 840
    assert layer.trainable == (840 if trainable else 0)
    assert report.totals.trainable_params == layer.trainable
    assert layer.connections == 840 and layer.macs == 840
    module = to_torch(g)
    assert sum(q.numel() for q in module.parameters()) == 840
    assert sum(q.numel() for q in module.parameters() if q.requires_grad) == layer.trainable
    with torch.no_grad():
        module.out.weight.copy_(weights)
    assert torch.allclose(module(x), expected, atol=1e-4)
    assert parse(to_notation(g)) == g


def test_connection_table_text_round_trips() -> None:
    rows = [[0, 1, 2], [5, 0, 1], [0, 1, 2, 3, 4, 5]]
    b = Builder("6x14x14")
    b.tableconv(3, k=5, table=connection_table(rows), name="C3")
    op = b.graph()["C3"].op
    assert op.rows == ((0, 1, 2), (5, 0, 1), (0, 1, 2, 3, 4, 5))  # type: ignore[attr-defined]
    assert "table=0+1+2,5+0+1,0+1+2+3+4+5" in to_notation(b.graph())


@pytest.mark.parametrize(("text", "error", "words"), [
    ("6x14x14 | tableconv 2 k5 table=0+1", NetarithError, "has 1 groups but 'out' is 2"),
    ("6x14x14 | tableconv 1 k5 table=0+x", NetarithError, "group 0 is '0+x'"),
    ("6x14x14 | tableconv 1 k5 table=0+0", NetarithError, "lists an input map twice"),
    ("6x14x14 | tableconv 1 k5 table=0+6", ShapeError, "names input map 6, but the input has 6 maps"),
    ("6x4x4 | tableconv 1 k5 table=0", ShapeError, "kernel 5 is larger than the padded input 4x4"),
    ("6x14x14 | tableconv 1 k5", NetarithError, "tableconv needs a table"),
    ("6x1x1 | subsample 2", ShapeError, "larger than the padded input"),
])
def test_bad_lenet_layers_are_refused_with_a_reason(text: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as info:
        analyze(text)
    assert words in str(info.value)
