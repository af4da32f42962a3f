"""The oracle: random networks run in PyTorch must agree with the analysis.

Hypothesis draws a plan of layers (1d, 2d, 3d; conv, convT, pools with ceil mode,
adaptive pools, groups, dilation, per-axis sizes, asymmetric padding through pad,
residual add and concat branches, flatten then linear). The plan is turned into a
netarith graph and, independently, into PyTorch modules applied to a real tensor
layer by layer. Where PyTorch refuses a layer, netarith must refuse the same layer;
everywhere else every output shape, parameter count and buffer count must agree.
Valid networks are also exported with ``to_torch`` and run whole.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from netarith import Builder, NetarithError, analyze, to_torch

pytestmark = pytest.mark.torch

EXAMPLES = 2000  # about 550 valid networks and 950 refused by both, a few seconds


@dataclass
class Layer:
    kind: str
    args: dict[str, Any] = field(default_factory=dict)


def _axes(draw: Any, rank: int, values: st.SearchStrategy[int]) -> int | tuple[int, ...]:
    if draw(st.booleans()):
        return draw(values)
    return tuple(draw(values) for _ in range(rank))


@st.composite
def plans(draw: Any) -> tuple[tuple[int, ...], list[Layer]]:
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    limit = {1: 40, 2: 16, 3: 7}[rank]
    shape = (draw(st.integers(1, 6)), *[draw(st.integers(1, limit)) for _ in range(rank)])
    layers: list[Layer] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from([
            "conv", "conv", "conv", "convT", "maxpool", "maxpool", "avgpool", "adaptive", "global",
            "bn", "gn", "lrn", "act", "pad", "upsample", "residual", "concat",
        ]))
        a: dict[str, Any] = {}
        small = st.integers(1, 4)
        if kind == "conv":
            a["out"] = draw(st.integers(1, 6))
            a["k"] = _axes(draw, rank, small)
            a["s"] = _axes(draw, rank, st.integers(1, 3))
            a["d"] = draw(st.sampled_from([1, 1, 2]))
            a["g"] = draw(st.sampled_from([1, 1, 2, 3]))
            a["bias"] = draw(st.booleans())
            a["p"] = draw(st.one_of(
                st.integers(0, 2), st.just("same"), st.just("valid"),
                st.tuples(*[st.integers(0, 2)] * rank),
                st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * rank),
            ))
            a["mode"] = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
        elif kind == "convT":
            a["out"] = draw(st.integers(1, 6))
            a["k"] = _axes(draw, rank, small)
            a["s"] = draw(st.integers(1, 3))
            a["p"] = draw(st.integers(0, 2))
            a["op"] = draw(st.integers(0, 2))
            a["d"] = draw(st.sampled_from([1, 1, 2]))
            a["g"] = draw(st.sampled_from([1, 1, 2]))
        elif kind in ("maxpool", "avgpool"):
            a["k"] = _axes(draw, rank, small)
            a["s"] = draw(st.one_of(st.none(), st.integers(1, 3)))
            a["p"] = draw(st.integers(0, 2))
            a["ceil"] = draw(st.booleans())
            if kind == "maxpool":
                a["d"] = draw(st.sampled_from([1, 1, 2]))
        elif kind == "adaptive":
            a["size"] = _axes(draw, rank, small)
            a["max"] = draw(st.booleans())
        elif kind == "gn":
            a["groups"] = draw(st.sampled_from([1, 2, 3]))
        elif kind == "lrn":
            a["size"] = draw(st.integers(1, 5))
        elif kind == "act":
            a["which"] = draw(st.sampled_from(["relu", "gelu", "sigmoid", "hardswish", "dropout", "prelu"]))
        elif kind == "pad":
            a["pads"] = tuple(draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in range(rank))
        elif kind == "upsample":
            if draw(st.booleans()):
                a["scale"] = draw(st.integers(1, 3))
            else:
                a["size"] = _axes(draw, rank, st.integers(1, 12))
            a["mode"] = draw(st.sampled_from(["nearest", "nearest", "linear", "bilinear", "trilinear"]))
        elif kind == "residual":
            a["k"] = draw(st.sampled_from([1, 3]))
        elif kind == "concat":
            a["out"] = draw(st.integers(1, 4))
        layers.append(Layer(kind, a))
    if draw(st.booleans()):
        layers.append(Layer("head", {"out": draw(st.integers(1, 8))}))
    return shape, layers


def _pairs(p: Any, rank: int) -> tuple[tuple[int, int], ...] | str:
    if isinstance(p, str):
        return p
    if isinstance(p, int):
        return ((p, p),) * rank
    if all(isinstance(v, int) for v in p):
        return tuple((v, v) for v in p)
    return tuple(p)


def build_netarith(shape: tuple[int, ...], layers: list[Layer]) -> tuple[Any, int | None]:
    """The graph of the layers built, and the index of a layer refused while building."""
    b = Builder(shape)
    rank = len(shape) - 1
    for i, layer in enumerate(layers):
        a = layer.args
        name = f"L{i}"
        try:
            if layer.kind == "conv":
                b.conv(a["out"], k=a["k"], s=a["s"], p=_pairs(a["p"], rank), d=a["d"], g=a["g"],
                       bias=a["bias"], padding_mode=a["mode"], name=name)
            elif layer.kind == "convT":
                b.convT(a["out"], k=a["k"], s=a["s"], p=a["p"], op=a["op"], d=a["d"], g=a["g"], name=name)
            elif layer.kind == "maxpool":
                b.maxpool(a["k"], s=a["s"], p=a["p"], d=a["d"], ceil=a["ceil"], name=name)
            elif layer.kind == "avgpool":
                b.avgpool(a["k"], s=a["s"], p=a["p"], ceil=a["ceil"], name=name)
            elif layer.kind == "adaptive":
                b.layer("adaptivemaxpool" if a["max"] else "adaptiveavgpool", a["size"], name=name)
            elif layer.kind == "global":
                b.globalavgpool(name=name)
            elif layer.kind == "bn":
                b.bn(name=name)
            elif layer.kind == "gn":
                b.gn(a["groups"], name=name)
            elif layer.kind == "lrn":
                b.lrn(a["size"], name=name)
            elif layer.kind == "act":
                which = a["which"]
                if which == "prelu":
                    b.prelu(channels=True, name=name)
                else:
                    b.layer(which, name=name)
            elif layer.kind == "pad":
                b.pad(a["pads"], name=name)
            elif layer.kind == "upsample":
                if "scale" in a:
                    b.upsample(a["scale"], mode=a["mode"], name=name)
                else:
                    b.upsample(size=a["size"], mode=a["mode"], name=name)
            elif layer.kind == "residual":
                prev = b.last
                assert prev is not None
                b.conv(_channels_hint(b), k=a["k"], p=a["k"] // 2, name=name + "b")
                b.add(prev, name + "b", name=name)
            elif layer.kind == "concat":
                prev = b.last
                assert prev is not None
                b.conv(a["out"], k=1, inputs=prev, name=name + "b")
                b.concat(prev, name + "b", name=name)
            elif layer.kind == "head":
                b.flatten(name=name + "f")
                b.linear(a["out"], name=name)
        except NetarithError:
            return b.graph(), i
    return b.graph(), None


def _channels_hint(b: Builder) -> int:
    """The residual branch keeps the channels: read them from a partial analysis."""
    g = b.graph()
    try:
        return analyze(g).layers[-1].shape.channels
    except NetarithError:
        return 1


def _refused_layer(message: str, layers: list[Layer]) -> int:
    for i in range(len(layers) - 1, -1, -1):
        for suffix in ("", "b", "f"):
            if f"L{i}{suffix}:" in message:
                return i
    raise AssertionError(f"cannot tell which layer was refused: {message}")


class TorchRun:
    """Apply each planned layer to a real tensor, recording shapes and counts."""

    def __init__(self, torch: ModuleType) -> None:
        self.torch = torch
        self.nn = torch.nn
        self.F = torch.nn.functional

    def conv_module(self, rank: int, cin: int, a: dict[str, Any], x: Any) -> Any:
        nn = self.nn
        conv = getattr(nn, f"Conv{rank}d")
        pads = _pairs(a["p"], rank)
        if isinstance(pads, str) or all(pb == pa for pb, pa in pads):
            padding = pads if isinstance(pads, str) else tuple(pb for pb, _ in pads)
            return conv(cin, a["out"], a["k"], stride=a["s"], padding=padding, dilation=a["d"],
                        groups=a["g"], bias=a["bias"], padding_mode=a["mode"])
        flat = [v for pb, pa in reversed(pads) for v in (pb, pa)]
        mode = {"zeros": "constant"}.get(a["mode"], a["mode"])
        inner = conv(cin, a["out"], a["k"], stride=a["s"], padding=0, dilation=a["d"], groups=a["g"],
                     bias=a["bias"])
        F = self.F

        class Padded(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, t: Any) -> Any:
                return self.inner(F.pad(t, flat, mode=mode))

        return Padded()

    def run(self, shape: tuple[int, ...], layers: list[Layer]) -> tuple[dict[str, tuple[Any, ...]], int | None]:
        """Returns {name: (shape, params, buffers)} and the refused layer index (or None)."""
        torch, _nn = self.torch, self.nn
        rank = len(shape) - 1
        x = torch.randn(2, *shape)  # batch 2: PyTorch refuses some norms at batch 1
        seen: dict[str, tuple[Any, ...]] = {}

        def record(name: str, module: Any, out: Any) -> Any:
            if out.numel() == 0:
                # PyTorch lets a transposed conv produce an empty tensor; netarith refuses
                # empty outputs on purpose (an empty layer is always a mistake).
                raise ValueError(f"{name}: empty output {tuple(out.shape)}")
            params = sum(p.numel() for p in module.parameters()) if module is not None else 0
            buffers = sum(b.numel() for b in module.buffers()) if module is not None else 0
            seen[name] = (tuple(out.shape[1:]), params, buffers)
            return out

        for i, layer in enumerate(layers):
            a = layer.args
            name = f"L{i}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x = self._apply(layer, a, x, rank, name, record)
            except (RuntimeError, ValueError):
                return seen, i
        return seen, None

    def _apply(self, layer: Layer, a: dict[str, Any], x: Any, rank: int, name: str, record: Any) -> Any:
        nn = self.nn
        cin = x.shape[1]

        def run(module: Any, t: Any, label: str = name) -> Any:
            module.eval()
            with self.torch.no_grad():
                return record(label, module, module(t))

        kind = layer.kind
        if kind == "conv":
            return run(self.conv_module(rank, cin, a, x), x)
        if kind == "convT":
            m = getattr(nn, f"ConvTranspose{rank}d")(cin, a["out"], a["k"], stride=a["s"], padding=a["p"],
                                                     output_padding=a["op"], dilation=a["d"], groups=a["g"])
            return run(m, x)
        if kind == "maxpool":
            return run(getattr(nn, f"MaxPool{rank}d")(a["k"], stride=a["s"], padding=a["p"], dilation=a["d"],
                                                      ceil_mode=a["ceil"]), x)
        if kind == "avgpool":
            return run(getattr(nn, f"AvgPool{rank}d")(a["k"], stride=a["s"], padding=a["p"],
                                                      ceil_mode=a["ceil"]), x)
        if kind == "adaptive":
            cls = "AdaptiveMaxPool" if a["max"] else "AdaptiveAvgPool"
            return run(getattr(nn, f"{cls}{rank}d")(a["size"]), x)
        if kind == "global":
            return run(getattr(nn, f"AdaptiveAvgPool{rank}d")(1), x)
        if kind == "bn":
            return run(getattr(nn, f"BatchNorm{rank}d")(cin), x)
        if kind == "gn":
            return run(nn.GroupNorm(a["groups"], cin), x)
        if kind == "lrn":
            return run(nn.LocalResponseNorm(a["size"]), x)
        if kind == "act":
            which = a["which"]
            module = {
                "relu": nn.ReLU(), "gelu": nn.GELU(), "sigmoid": nn.Sigmoid(), "hardswish": nn.Hardswish(),
                "dropout": nn.Dropout(0.5),
            }.get(which) or nn.PReLU(cin)
            return run(module, x)
        if kind == "pad":
            flat = [v for pb, pa in reversed(a["pads"]) for v in (pb, pa)]
            return run(getattr(nn, f"ConstantPad{rank}d")(tuple(flat), 0.0), x)
        if kind == "upsample":
            if "scale" in a:
                m = nn.Upsample(scale_factor=float(a["scale"]), mode=a["mode"])
            else:
                m = nn.Upsample(size=a["size"], mode=a["mode"])
            return run(m, x)
        if kind == "residual":
            branch = run(getattr(nn, f"Conv{rank}d")(cin, cin, a["k"], padding=a["k"] // 2), x, name + "b")
            return record(name, None, x + branch)
        if kind == "concat":
            branch = run(getattr(nn, f"Conv{rank}d")(cin, a["out"], 1), x, name + "b")
            return record(name, None, self.torch.cat([x, branch], dim=1))
        if kind == "head":
            flat = record(name + "f", None, x.flatten(1))
            return run(nn.Linear(flat.shape[1], a["out"]), flat)
        raise AssertionError(kind)


def _too_big(shape: tuple[int, ...], layers: list[Layer]) -> bool:
    """Keep the oracle fast: skip plans whose upsampling makes huge tensors."""
    scale = math.prod(layer.args.get("scale", 1) for layer in layers if layer.kind == "upsample")
    return math.prod(shape) * scale ** (len(shape) - 1) * 8 > 2_000_000


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans())
def test_random_networks_agree_with_pytorch(torch: ModuleType, plan: tuple[tuple[int, ...], list[Layer]]) -> None:
    shape, layers = plan
    if _too_big(shape, layers):
        event("skipped: too big")
        return
    graph, refused = build_netarith(shape, layers)
    report = None
    try:
        report = analyze(graph)  # with a build refusal: the layers before it
    except NetarithError as exc:
        refused = _refused_layer(str(exc), layers)
    if refused is not None:
        report = None
    seen, torch_refused = TorchRun(torch).run(shape, layers)
    assert refused == torch_refused, (
        f"netarith refused layer {refused}, PyTorch layer {torch_refused}: {layers}"
    )
    event(f"rank {len(shape) - 1}")
    if report is None:
        event("refused by both")
        return
    event("valid")
    for name, (out_shape, params, buffers) in seen.items():
        got = report[name]
        assert got.shape.dims == out_shape, (name, got.shape, out_shape, layers)
        assert got.params == params, (name, got.params, params, layers)
        assert got.buffers == buffers, (name, got.buffers, buffers, layers)
    # The exporter builds the same network.
    model = to_torch(graph)
    model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        outs = model(torch.randn(2, *shape), return_all=True)
    for result in report:
        assert tuple(outs[result.name].shape[1:]) == result.shape.dims, (result.name, layers)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(b.numel() for b in model.buffers()) == report.totals.buffers
