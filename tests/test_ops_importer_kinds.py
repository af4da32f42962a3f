"""The kinds importers need (tensor, elementwise, attention, einsum, reduce, slice, select,
expand, index) against PyTorch: each network is exported with ``to_torch`` and run; every
layer's shape, the parameters and the MACs (``torch.utils.flop_counter``) must agree."""

from __future__ import annotations

from types import ModuleType

import pytest

from netarith import NetarithError, analyze, parse, to_notation, to_torch

pytestmark = pytest.mark.torch

NETWORKS = {
    "attention": """
        input 10x16
        q: linear 16
        k: linear 16 <- input
        v: linear 8 <- input
        a: attention heads=4 q k v
        s: attention q k v
        both: concat a s dim=-1
    """,
    "einsum": """
        input 6x5x4
        x: einsum eq=cij,cjk->cik input input2
        input2: reshape 6 4 5 <- input
        t: einsum eq=cik->kic <- x
    """,
    "parts": """
        input 8x7x6
        s: slice dim=2 start=1 end=6 step=2
        c: slice dim=1 start=-3 <- input
        sel: select dim=3 index=-1 <- input
        r: reduce mean 2 3 keep <- input
        m: reduce amax -1 <- input
        e: expand 8x7x6 <- r
        w: tensor 8x1x1 learned
        g: mul input w
        d: elementwise op=sub g e
        x: elementwise op=exp
        k: concat x g dim=1
    """,
}


def _run(torch: ModuleType, text: str) -> None:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    graph = parse(text)
    assert parse(to_notation(graph)) == graph
    report = analyze(graph)
    model = to_torch(graph)
    x = torch.randn(2, *report.input.dims)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        outs = model(x, return_all=True)
    for layer in report:
        got = tuple(outs[layer.name].shape)
        want = (1 if layer.kind == "tensor" else 2, *layer.shape.dims)  # a tensor has a batch axis of 1
        assert got == want, (layer.name, got, want)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert 2 * report.totals.macs == counter.get_total_flops() // 2


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_kinds_match_pytorch(torch: ModuleType, name: str) -> None:
    _run(torch, NETWORKS[name])


def test_attention_costs_do_not_depend_on_heads() -> None:
    one = analyze("10x16 | q: attention input input input")
    four = analyze("10x16 | q: attention heads=4 input input input")
    assert one["q"].macs == four["q"].macs == 10 * 10 * (16 + 16)
    assert four["q"].extras["softmax"] == 4 * one["q"].extras["softmax"]


def test_tensor_roles_count_parameters_and_buffers() -> None:
    report = analyze("input 3x4 | a: tensor 2x5 learned | b: tensor 7 buffer | c: tensor 3x3")
    assert (report["a"].params, report["b"].buffers, report["c"].params, report["c"].buffers) == (10, 7, 0, 0)


@pytest.mark.parametrize("text, message", [
    ("10x16 | attention heads=3 input input input", "3 heads do not divide"),
    ("10x16 | x: reshape 16 10 | attention input x input", "differ in features"),
    ("4x5 | einsum eq=ab,bc->ac input input", "index 'b' is 5 in one tensor and 4"),
    ("4x5 | einsum eq=ab->", "sums each sample to a scalar"),
    ("4x5 | einsum eq=a...b->b", "must be like"),
    ("4x5 | reduce sum 1 2", "leaves a scalar"),
    ("4x5 | slice dim=2 start=5", "is empty"),
    ("4x5 | select dim=1 index=4", "out of range"),
    ("4x5 | expand 3x5", "cannot expand"),
    ("4x5 | index dim=3 input input", "out of range"),
    ("4x5 | elementwise op=sub input x | x: reshape 5 4 <- input", "cannot apply sub"),
])
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(NetarithError, match=message):
        analyze(text)
