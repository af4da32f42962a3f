"""The text notation: forms that must parse, the printer's round trip, located errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from netarith import Graph, NotationError, ShapeError, analyze, parse, to_notation
from netarith.ops.conv import Conv, ConvTranspose
from netarith.ops.pool import MaxPool

from .conftest import EXAMPLES


def test_short_and_long_forms_agree() -> None:
    short = parse("3x224x224 | conv 96 k11 s4 p2 d1 g1 nobias")
    long = parse("input 3x224x224\nconv out=96 kernel=11 stride=4 padding=2 dilation=1 groups=1 bias=false")
    assert short == long
    op = short["conv_1"].op
    assert isinstance(op, Conv)
    assert op.kernel == (11,) and op.stride == (4,) and op.padding == ((2, 2),) and not op.bias


def test_per_axis_and_asymmetric() -> None:
    g = parse("3x32x32 | conv 8 k3x1 s2x1 p1x0 | conv 8 k3 p0+1 | maxpool k3 s2 ceil")
    assert g["conv_1"].op.kernel == (3, 1)
    assert g["conv_2"].op.padding == ((0, 1),)
    pool = g["maxpool_1"].op
    assert isinstance(pool, MaxPool) and pool.rounding == "ceil" and pool.stride == (2,)


def test_convt_output_padding_and_same() -> None:
    g = parse("8x16x16 | convT 4 k3 s2 p1 op1 | conv 4 k3 same")
    op = g["convT_1"].op
    assert isinstance(op, ConvTranspose) and op.output_padding == (1,)
    assert g["conv_1"].op.padding == "same"


def test_names_inputs_and_merges() -> None:
    text = """
    input 16x8x8
    a: conv 16 k3 p1
    b: conv 16 k1 <- input
    s: add a b
    c: concat a b s
    d: add s        # one name: the previous layer (c) and s
    """
    g = parse(text)
    assert g["b"].inputs == ("input",)
    assert g["s"].inputs == ("a", "b")
    assert g["c"].inputs == ("a", "b", "s")
    assert g["d"].inputs == ("c", "s")
    with pytest.raises(ShapeError, match=r"d: cannot add 48x8x8 and 16x8x8"):
        analyze(g)


def test_auto_names() -> None:
    g = parse("3x8x8 | relu | relu | relu_2: relu | relu")
    assert [n.name for n in g] == ["input", "relu_1", "relu_3", "relu_2", "relu_4"]


def test_directives() -> None:
    g = parse("model tiny\nconvention cuda-convnet\ninput 3x8x8\nconv 4 k3")
    assert g.name == "tiny" and g.convention == "cuda-convnet"


def test_upsample_scale_is_exact() -> None:
    g = parse("3x8x8 | upsample 1.5 bilinear")
    assert g["upsample_1"].op.scale == (Fraction(3, 2),)


def test_permute_and_reshape_lists() -> None:
    g = parse("3x4x5 | permute 0 2 3 1 | reshape 20x-1")
    assert g["permute_1"].op.order == (0, 2, 3, 1)
    assert g["reshape_1"].op.shape == (20, -1)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.net")), ids=lambda p: p.name)
def test_examples_round_trip(path: object) -> None:
    from pathlib import Path

    text = Path(str(path)).read_text()
    g = parse(text)
    printed = to_notation(g)
    again = parse(printed)
    assert again == g
    assert to_notation(again) == printed


def test_round_trip_keeps_unusual_values() -> None:
    text = (
        "input 2x9x9x9\nconv 4 k3x1x2 p0+1x2x1+0 d2 padding_mode=reflect\nbn noaffine eps=0.001\n"
        "gn 2\nleakyrelu 0.2\nmaxpool k2 s1 floor\navgpool 2 count_include_pad=false\n"
        "upsample size=5x6x7 trilinear align_corners=true\nflatten start=2\n"
    )
    g = parse(text)
    assert parse(to_notation(g)) == g


def test_graph_equality_ignores_lines() -> None:
    assert parse("\n\n3x8x8 | relu") == parse("3x8x8 | relu")
    assert isinstance(parse("3x8x8"), Graph)


def _error(text: str) -> NotationError:
    with pytest.raises(NotationError) as info:
        parse(text)
    return info.value


def test_error_has_line_column_caret_and_suggestion() -> None:
    err = _error("input 3x32x32\nconv 8 k3\nmaxpol k2\n")
    assert err.line == 3 and err.column == 1
    text = str(err)
    assert "did you mean 'maxpool'" in text
    assert "maxpol k2\n    ^" in text


def test_error_column_in_one_liner() -> None:
    err = _error("3x32x32 | conv 8 k3 q7")
    assert err.column == 21
    assert "conv does not understand 'q7'" in str(err)
