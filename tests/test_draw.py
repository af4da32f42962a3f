"""The SVG pictures: well-formed, deterministic (golden files), with the right numbers on them.

Golden files live in tests/golden; rewrite them after a deliberate change with
``pytest --regen-golden`` (or NETARITH_REGEN_GOLDEN=1) and look at the diff.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from netarith import analyze, parse
from netarith.cli import main
from netarith.draw import chart, draw
from netarith.errors import SpecError

from .conftest import DATA, EXAMPLES
from .resnets import STAGES, resnet

GOLDEN = Path(__file__).parent / "golden"
SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    """Every text element's content, as a reader of the picture sees it."""
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


CASES = {
    "alexnet-paper.volumes": lambda: draw(EXAMPLES / "alexnet-paper.net"),
    "alexnet-paper.graph": lambda: draw(EXAMPLES / "alexnet-paper.net", "graph"),
    "alexnet-paper.chart-log": lambda: chart(EXAMPLES / "alexnet-paper.net", log=True),
    "inception-3a.volumes": lambda: draw(EXAMPLES / "inception-block.net"),
    "residual-block.volumes": lambda: draw(EXAMPLES / "residual-block.net"),
    "encoder-decoder.volumes": lambda: draw(EXAMPLES / "encoder-decoder.net"),
    "c3d.volumes": lambda: draw(EXAMPLES / "video-3d.net"),
    "audio-m5.chart": lambda: chart(EXAMPLES / "audio-1d.net"),
    "resnet152.volumes": lambda: draw(analyze(resnet("resnet152"))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, regen_golden: bool) -> None:
    svg = CASES[case]()
    ET.fromstring(svg)  # well-formed XML
    assert svg == CASES[case](), "the same report must draw the same bytes"
    path = GOLDEN / f"{case}.svg"
    if regen_golden or not path.exists():
        path.write_text(svg, encoding="utf-8")
        if not regen_golden:
            pytest.fail(f"{path.name} was missing and has been written; check it and run again")
    assert svg == path.read_text(encoding="utf-8"), f"{path.name} changed; rerun with --regen-golden if intended"


def test_alexnet_volumes_carry_the_papers_numbers() -> None:
    """Figure 2 of Krizhevsky et al. 2012: 224x224x3 in; per GPU 55x55x48, 27x27x128, 13x13x192,
    13x13x192, 13x13x128; dense 4096, 4096 (drawn 2048 per GPU in the paper), 1000; kernels 11, 5, 3."""
    shown = Counter(texts(draw(EXAMPLES / "alexnet-paper.net")))
    assert shown["224"] == 2 and shown["3"] == 1               # the input face and its depth
    assert shown["55"] == 4 and shown["48"] == 2               # conv1: two streams of 55x55x48
    assert shown["27"] == 4 and shown["128"] == 4              # conv2 (27x27x128) x2 and conv5 (..x128) x2
    assert shown["13"] == 12 and shown["192"] == 4             # conv3, conv4, conv5 at 13x13, two streams each
    assert shown["4096"] == 2 and shown["1000"] == 1
    kernels = [t for t in shown if "\u00d7" in t]
    assert {k.split()[0] for k in kernels} == {"11\u00d711", "5\u00d75", "3\u00d73"}
    assert "11\u00d711 s4" in shown                           # "stride of 4"
    assert any("659,272 neurons" in t for t in shown)         # the caption's list, with 290,400 for layer 1


def test_alexnet_streams_follow_the_two_gpus() -> None:
    """Section 3.5: conv2, conv4, conv5 read only their own GPU's maps; conv3 reads both."""
    root = ET.fromstring(draw(EXAMPLES / "alexnet-paper.net"))
    layers = {g.get("data-layer"): g for g in root.iter(f"{SVG}g") if g.get("data-layer")}
    fronts = {name: len([r for r in g.iter(f"{SVG}rect")]) for name, g in layers.items()}
    assert fronts == {"input": 1, "conv1": 2, "conv2": 2, "conv3": 2, "conv4": 2, "conv5": 2,
                      "fc6": 1, "fc7": 1, "fc8": 1}
    kernels = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == "kern"]
    # input->conv1: 2 (one per target stream); conv1->conv2: 2; conv2->conv3: 4 (all pairs);
    # conv3->conv4: 2; conv4->conv5: 2
    assert len(kernels) == 12


def test_resnet152_fits_a_page_with_counts() -> None:
    """He et al. 2016, Table 1: ResNet-152 has 3, 8, 36, 3 bottleneck blocks per stage; the first of
    each stage projects its shortcut, the rest repeat: x2, x7, x35, x2."""
    report = analyze(resnet("resnet152"))
    with (DATA / "torchvision_meta.csv").open() as f:
        meta = {row["model"]: row for row in csv.DictReader(f)}
    assert report.totals.params == int(meta["resnet152"]["num_params"])  # the test network is ResNet-152
    svg = draw(report)
    root = ET.fromstring(svg)
    counts = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "count"]
    assert counts == [f"\u00d7{n - 1}" for n in STAGES["resnet152"]]
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    assert width <= 1600 and height <= 1600, (width, height)
    boxes = [g for g in root.iter(f"{SVG}g") if g.get("data-layer")]
    assert len(boxes) < 60  # 155 weighted layers and 50 adds drawn as a few dozen boxes
    uncollapsed = ET.fromstring(draw(report, collapse=False))
    # the input, 155 convolutions (1 + 3 x 50 + 4 projections), fc, and the 50 additions
    assert len([g for g in uncollapsed.iter(f"{SVG}g") if g.get("data-layer")]) == 1 + 155 + 1 + 50


def test_graph_style_labels_edges_with_shapes() -> None:
    report = analyze(EXAMPLES / "inception-block.net")
    shown = texts(draw(report, "graph"))
    edges = sum(len(r.inputs) for r in report.layers)
    shapes = [t for t in shown if t in {str(r.shape) for r in report.layers}]
    assert len(shapes) >= edges  # one label per edge (plus the output's shape)
    assert "256x28x28" in shown  # the concat of 64 + 128 + 32 + 32 channels (Szegedy et al., Table 1)


def test_chart_has_a_bar_per_counted_quantity() -> None:
    report = analyze(EXAMPLES / "alexnet-paper.net")
    root = ET.fromstring(chart(report))
    rows = [g for g in root.iter(f"{SVG}g") if g.get("data-layer")]
    assert [g.get("data-layer") for g in rows] == [r.name for r in report.layers]
    bars = sum(1 for g in rows for _ in g.iter(f"{SVG}rect"))
    expected = sum((r.neurons > 0) + (r.params > 0) + (r.macs > 0) for r in report.layers)
    assert bars == expected


def test_not_counted_is_written_not_drawn_as_zero() -> None:
    svg = chart("input 3x8x8\nx: opaque op=custom shape=3x8x8")
    assert "not counted" in svg


def test_markup_in_names_stays_text() -> None:
    # a model name is one word, so markup without spaces gets through the notation to the pictures
    graph = parse("model <script>alert(1)</script><img/src=x/onerror=alert(2)>\ninput 3x8x8\nc1: conv 2 k3")
    assert graph.name is not None and "<script>" in graph.name
    for svg in (draw(analyze(graph)), draw(analyze(graph), "graph"), chart(analyze(graph))):
        root = ET.fromstring(svg)
        tags = {el.tag.replace(SVG, "") for el in root.iter()}
        assert not tags & {"script", "img", "foreignObject"}
        assert not any(k.startswith("on") for el in root.iter() for k in el.attrib)
        assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_unknown_style_is_refused() -> None:
    with pytest.raises(SpecError, match="unknown style 'volume'; did you mean 'volumes'"):
        draw("3x8x8 | conv 2 k3", "volume")


def test_graph_shows_itself_in_notebooks() -> None:
    graph = parse("3x8x8 | c1: conv 2 k3")
    svg = graph._repr_svg_()
    assert svg is not None and "c1" in texts(svg)
    assert parse("3x2x2 | conv 2 k3")._repr_svg_() is None  # does not compute: plain repr instead


def test_cli_draw_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.svg"
    assert main(["draw", str(EXAMPLES / "alexnet-paper.net"), "-o", str(out)]) == 0
    assert "conv1" in texts(out.read_text())
    assert main(["draw", "3x8x8 | conv 2 k3", "--style", "graph"]) == 0
    assert capsys.readouterr().out.startswith("<svg")
    assert main(["chart", str(EXAMPLES / "alexnet-paper.net"), "--log", "-o", str(tmp_path / "c.svg")]) == 0
    assert "log10(1 + value)" in (tmp_path / "c.svg").read_text()
    assert main(["draw", "3x2x2 | conv 2 k3"]) == 2  # an error, not a traceback
