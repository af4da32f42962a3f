"""The mobile-era zoo (MobileNet, ShuffleNet, MNASNet, EfficientNet, RegNet, ConvNeXt).

Oracles: torchvision's published ``num_params`` and ``_ops`` (tests/data/torchvision_meta.csv),
the MobileNets paper's tables (Howard et al. 2017, arXiv 1704.04861), PyTorch running the
exported networks, and torch's own float32 arithmetic for RegNet's widths. The layer-by-layer
comparison with torchvision's modules is in test_zoo_mobile_torchvision.py (torchvision venv).
"""

from __future__ import annotations

import csv
import gc
import math
import re
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netarith import NetarithError, analyze, parse, to_torch
from netarith.analyze import Report
from netarith.notation import to_notation
from netarith.zoo import build, registry
from netarith.zoo.mobilenet import mobilenet_v1
from netarith.zoo.regnet import block_widths

DATA = Path(__file__).parent / "data"
CLAIMS = Path(__file__).parent.parent / "src" / "netarith" / "zoo" / "claims"
FAMILIES = ("mobilenet", "shufflenet", "mnasnet", "efficientnet", "regnet", "convnext")
MINE = [e.name for e in registry.entries() if e.family in FAMILIES]
TORCHVISION = [n for n in MINE if registry.get(n).source.startswith("torchvision")]


def _meta_rows() -> list[dict[str, str]]:
    rows, seen = [], set()
    with open(DATA / "torchvision_meta.csv", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["model"], row["weights"])
            if row["model"] in TORCHVISION and key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


META = _meta_rows()


def _crop(name: str) -> int:
    return int(registry.get(name).input.split("x")[-1])


# --------------------------------------------------------------- torchvision's metadata


def test_the_families_are_complete() -> None:
    expected = {
        "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
        *(f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")),
        *(f"mnasnet{w}" for w in ("0_5", "0_75", "1_0", "1_3")),
        *(f"efficientnet_b{i}" for i in range(8)), "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
        *(f"regnet_{x}_{s}" for x in "xy" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
        "regnet_y_128gf", *(f"convnext_{s}" for s in ("tiny", "small", "base", "large")),
    }
    assert set(TORCHVISION) == expected
    assert set(MINE) - set(TORCHVISION) == {"mobilenet-v1"}
    assert expected <= {row["model"] for row in META}


@pytest.mark.parametrize("row", META, ids=lambda r: f"{r['model']}-{r['weights'].split('.')[1]}")
def test_params_and_macs_equal_torchvision_metadata(row: dict[str, str]) -> None:
    size = int(row["crop_size"])
    totals = analyze(row["model"], input=(3, size, size)).totals
    assert totals.params == int(row["num_params"])
    # _ops is GMACs printed to 3 decimals: within half a unit of its last digit.
    printed = int(Decimal(row["gflops"]) * 10**9)
    assert abs(totals.macs - printed) * 2 <= 10**6, (totals.macs, row["gflops"])


@pytest.mark.parametrize("name", TORCHVISION)
def test_default_input_is_the_weights_crop(name: str) -> None:
    crops = {int(r["crop_size"]) for r in META if r["model"] == name}
    assert _crop(name) in crops
    if len(crops) == 1:  # else the default weights' (regnet_y_16gf/32gf 224, 128gf 384)
        assert crops == {_crop(name)}
    assert build(name).inputs[0].op.shape.dims == (3, _crop(name), _crop(name))  # type: ignore[attr-defined]


# --------------------------------------------------------------- notation and speed


@pytest.mark.parametrize("name", MINE)
def test_notation_round_trip(name: str) -> None:
    graph = build(name)
    text = to_notation(graph)
    assert parse(text) == graph
    assert analyze(text).totals == analyze(graph).totals


def test_models_build_in_milliseconds() -> None:
    slowest, which = 0.0, ""
    for name in MINE:
        builder = registry.get(name).builder
        best = min(_timed(builder) for _ in range(5))
        if best > slowest:
            slowest, which = best, name
    assert slowest < 0.1, f"{which} took {slowest * 1000:.1f} ms of CPU to build"


def _timed(fn: Any) -> float:
    """CPU seconds of this process (other processes on a busy machine do not count)."""
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return time.process_time() - start
    finally:
        gc.enable()


# --------------------------------------------------------------- MobileNets, the paper

# Howard et al. 2017: "Million Mult-Adds" and "Million Parameters" as printed.
# (table, width, resolution, printed mult-adds, printed parameters)
PAPER_ROWS = [
    ("Table 8", 1, 224, "569", "4.2"),
    ("Table 6", "0.75", 224, "325", "2.6"),
    ("Table 6", "0.5", 224, "149", "1.3"),
    ("Table 6", "0.25", 224, "41", "0.5"),
    ("Table 7", 1, 192, "418", "4.2"),
    ("Table 7", 1, 128, "186", "4.2"),
    ("Table 10", "0.75", 192, "239", None),
]


def _rounds(value: int, printed: str, unit: int) -> bool:
    """``value`` equals ``printed`` (in units of ``unit``) to the digits printed."""
    decimals = len(printed.partition(".")[2])
    step = Decimal(unit) / 10**decimals
    return abs(Decimal(value) - Decimal(printed) * unit) <= step / 2


def _weights(report: Report) -> int:
    """Weights of the convolutions and linear layers: no biases, no batch norm."""
    total = 0
    for r in report.layers:
        if r.kind in ("conv", "linear"):
            bias = r.shape.channels if r.kind == "conv" else r.shape.dims[-1]
            total += r.params - (bias if r.node.op.bias else 0)  # type: ignore[attr-defined]
    return total


@pytest.mark.parametrize(("table", "width", "size", "madds", "params"), PAPER_ROWS)
def test_mobilenet_v1_paper_tables(table: str, width: Any, size: int, madds: str, params: str | None) -> None:
    report = analyze(mobilenet_v1(width, size))
    assert _rounds(report.totals.macs, madds, 10**6)
    if params is not None:
        assert _rounds(_weights(report), params, 10**6)
        assert _rounds(report.totals.params, params, 10**6)


def test_mobilenet_v1_registered_model_is_table_1() -> None:
    report = analyze("mobilenet-v1")
    assert report.totals.macs == analyze(mobilenet_v1()).totals.macs == 568_740_352
    assert _rounds(report.totals.macs, "569", 10**6) and _rounds(report.totals.params, "4.2", 10**6)
    # Table 1: 28 layers counting depthwise and pointwise separately (section 3.2).
    assert sum(r.kind in ("conv", "linear") for r in report.layers) == 28
    # The "Conv dw / s2" printed on the 7x7 input must be stride 1: its output is 7x7.
    assert report["conv_dw_13"].shape.dims == (1024, 7, 7)


def test_mobilenet_v1_table_2_shares_fix_what_is_counted() -> None:
    """Table 2's shares hold only for weights without biases or batch norm (4,209,088),
    and its 1.19% for the full 3x3 convolution is 1.91% with two digits swapped."""
    report = analyze("mobilenet-v1")
    macs: dict[str, int] = {}
    params: dict[str, int] = {}
    for r in report.layers:
        if r.kind not in ("conv", "linear"):
            continue
        kind = ("fc" if r.kind == "linear" else "dw" if "_dw_" in r.name
                else "pw" if "_pw_" in r.name else "conv3x3")
        bias = r.shape.dims[0] if r.node.op.bias else 0  # type: ignore[attr-defined]
        macs[kind] = macs.get(kind, 0) + r.macs
        params[kind] = params.get(kind, 0) + r.params - bias
    weights = sum(params.values())
    assert weights == _weights(report) == 4_209_088

    def share(part: int, whole: int) -> str:
        return f"{Decimal(100 * part) / whole:.2f}"

    printed = {"pw": ("94.86", "74.59"), "dw": ("3.06", "1.06"), "conv3x3": ("1.19", "0.02"),
               "fc": ("0.18", "24.33")}
    total = report.totals.macs
    for kind, (madds, weight) in printed.items():
        assert share(params[kind], weights) == weight
        computed = share(macs[kind], total)
        if kind == "conv3x3":  # printed 1.19: the same digits, two of them swapped
            assert computed == "1.91" != madds and sorted(computed) == sorted(madds)
        else:
            assert computed == madds
    # With the classifier's 1,000 biases in the total the FC share would print 24.32.
    assert share(params["fc"], weights + 1000) != "24.33"


def test_mobilenet_v1_table_3_one_layer_shrunk() -> None:
    """Table 3: the 14x14x512 layer, full, separable, alpha 0.75, rho 0.714 (160/224)."""
    full = analyze(mobilenet_v1(separable=False))["conv_7"]
    assert full.shape.dims == (512, 14, 14)
    assert _rounds(full.macs, "462", 10**6) and _rounds(full.params, "2.36", 10**6)
    for (width, size), (madds, params) in {
        (1, 224): ("52.3", "0.27"), ("0.75", 224): ("29.6", "0.15"), ("0.75", 160): ("15.1", "0.15"),
    }.items():
        r = analyze(mobilenet_v1(width, size))
        pair = [r["conv_dw_7"], r["conv_pw_7"]]
        assert _rounds(sum(x.macs for x in pair), madds, 10**6)
        assert _rounds(sum(x.params for x in pair), params, 10**6)


def test_mobilenet_v1_tables_4_and_5() -> None:
    shallow = analyze(mobilenet_v1(shallow=True))  # Table 5: 307 million, 2.9 million
    assert _rounds(shallow.totals.macs, "307", 10**6) and _rounds(_weights(shallow), "2.9", 10**6)
    conv = analyze(mobilenet_v1(separable=False))  # Table 4: 4866 million, 29.3 million
    assert _rounds(_weights(conv), "29.3", 10**6)
    # The exact count prints 4867; the printed 4866 leaves out the classifier's MACs.
    assert conv.totals.macs == 4_867_293_184
    assert _rounds(conv.totals.macs - conv["fc"].macs, "4866", 10**6)
    assert not _rounds(conv.totals.macs, "4866", 10**6)


def test_mobilenet_v1_reduced_resolutions_scale_the_224_count() -> None:
    """Table 7's 290 (1.0 at 160) and Table 9's 76 (0.50 at 160) are the 224 count times
    (160/224)^2; the exact counts print 291 and 77 because the classifier does not shrink."""
    for width, printed in ((1, "290"), ("0.5", "76")):
        exact = analyze(mobilenet_v1(width, 160)).totals.macs
        at_224 = analyze(mobilenet_v1(width, 224)).totals.macs
        assert not _rounds(exact, printed, 10**6)
        assert _rounds(at_224 * 160**2 // 224**2, printed, 10**6)
    r = analyze(mobilenet_v1("0.5", 160))  # Table 9: 1.32 million parameters, weights only
    assert _rounds(_weights(r), "1.32", 10**6) and not _rounds(r.totals.params, "1.32", 10**6)


def test_mobilenet_v1_width_must_give_whole_channels() -> None:
    with pytest.raises(NetarithError, match="not a whole number"):
        mobilenet_v1("0.3")


# --------------------------------------------------------------- RegNet widths


@settings(max_examples=300, deadline=None)
@given(depth=st.integers(1, 50), w_0=st.integers(1, 80).map(lambda n: 8 * n),
       w_a=st.floats(0, 400, allow_nan=False), w_m=st.floats(1.001, 5, allow_nan=False))
def test_regnet_widths_repeat_torch_float32_arithmetic(torch: ModuleType, depth: int, w_0: int, w_a: float,
                                                         w_m: float) -> None:
    # The quantization of Radosavovic et al. 2020 (section 3.3) as torchvision evaluates it.
    continuous = torch.arange(depth) * w_a + w_0
    steps = torch.round(torch.log(continuous / w_0) / math.log(w_m))
    quantized = torch.round(torch.divide(w_0 * torch.pow(w_m, steps), 8)) * 8
    assert block_widths(depth, w_0, w_a, w_m) == quantized.int().tolist()


# --------------------------------------------------------------- PyTorch runs the zoo

ONE_PER_FAMILY = ["mobilenet-v1", "mobilenet_v3_small", "shufflenet_v2_x0_5", "mnasnet0_5", "efficientnet_b0",
                  "regnet_y_400mf", "convnext_tiny"]


@pytest.mark.torch
@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_every_layer_shape_against_pytorch(torch: ModuleType, name: str) -> None:
    graph = build(name).with_input((3, 64, 64))  # small: the shapes, not the cost, are checked
    report = analyze(graph)
    module = to_torch(graph).eval()
    with torch.no_grad():
        outputs = module(torch.randn(1, 3, 64, 64), return_all=True)
    assert set(outputs) == {r.name for r in report.layers}
    for r in report.layers:
        assert tuple(outputs[r.name].shape[1:]) == r.shape.dims, r.name
    assert sum(p.numel() for p in module.parameters()) == report.totals.params
    assert sum(b.numel() for b in module.buffers()) == report.totals.buffers


# --------------------------------------------------------------- claims files

_NUMBER = re.compile(r"^(\d[\d,]*(?:\.\d+)?)(?: (million|billion))?$")
_SCALE = {None: 1, "million": 10**6, "billion": 10**9}


def _claims(name: str) -> dict[str, Any]:
    with open(CLAIMS / f"{name}.yaml") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


@pytest.mark.parametrize("name", MINE)
def test_claims_file_states_what_the_model_computes(name: str) -> None:
    data = _claims(name)
    assert set(data) == {"model", "source", "claims"} and data["model"] == name
    assert data["claims"]
    report = analyze(name).to_dict()
    layers = {layer["name"]: layer for layer in report["layers"]}
    for claim in data["claims"]:
        assert set(claim) == {"figure", "value", "where"} and claim["where"]
        owner, _, quantity = claim["figure"].rpartition(".")
        computed = report["totals"][quantity] if owner == "totals" else layers[owner][quantity]
        value = str(claim["value"])
        if quantity == "output_shape":  # printed HxWxC
            *spatial, channels = (int(v) for v in value.split("x"))
            assert computed == [channels, *spatial], claim
            continue
        match = _NUMBER.match(value)
        assert match, claim
        number, unit = match.group(1).replace(",", ""), match.group(2)
        assert _rounds(computed, number, _SCALE[unit]), (claim, computed)


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_claims_are_the_metadata(name: str) -> None:
    claimed = {(c["figure"], str(c["value"]), c["where"].split("(")[1].split(",")[0].rstrip(")"))
               for c in _claims(name)["claims"]}
    expected = set()
    for row in META:
        if row["model"] == name and int(row["crop_size"]) == _crop(name):
            expected.add(("totals.params", row["num_params"], row["weights"]))
            expected.add(("totals.macs", f"{row['gflops']} billion", row["weights"]))
    assert claimed == expected
