"""Bad input: every case ends in one NetarithError with a located, helpful message."""

from __future__ import annotations

import time

import pytest

from netarith import (
    GraphError,
    NetarithError,
    NotationError,
    ShapeError,
    SourceError,
    SpecError,
    analyze,
)

CASES: list[tuple[str, str, type[NetarithError], str]] = [
    ("unknown kind", "3x8x8 | maxpol k2", NotationError, "did you mean 'maxpool'"),
    ("unknown kind, line", "input 3x8x8\nconvv 8 k3", NotationError, "2:1: unknown kind 'convv'"),
    ("bad token", "3x8x8 | conv 8 k3 zz9", NotationError, "conv does not understand 'zz9'"),
    ("bad long key", "3x8x8 | conv 8 kernal=3", NotationError, "did you mean 'kernel'"),
    ("missing kernel", "3x8x8 | conv 8", NotationError, "conv needs a kernel"),
    ("missing out", "3x8x8 | linear", NotationError, "linear needs a out"),
    ("zero kernel", "3x8x8 | conv 8 k0", NotationError, "'kernel' must be >= 1: 0"),
    ("zero stride", "3x8x8 | conv 8 k3 s0", NotationError, "'stride' must be >= 1: 0"),
    ("negative padding", "3x8x8 | conv 8 k3 p-1", NotationError, "'padding' must be >= 0"),
    ("zero channels", "3x8x8 | conv 0 k3", NotationError, "'out' must be >= 1: 0"),
    ("zero input", "input 3x0x8", NotationError, "positive"),
    ("not a number", "3x8x8 | conv 8 k3 s2.5", NotationError, "expected an integer"),
    ("given twice", "3x8x8 | conv 8 k3 k5", NotationError, "'kernel' is given twice"),
    ("kernel too large", "3x2x2 | conv3: conv 8 k3", ShapeError,
     "conv3: kernel 3 is larger than the padded input 2x2"),
    ("dilated kernel too large", "3x4x4 | conv 8 k3 d2", ShapeError, "dilated kernel 5x5 (kernel 3, dilation 2)"),
    ("groups vs input", "3x8x8 | conv 8 k3 g2", ShapeError, "groups 2 does not divide the 3 input channels"),
    ("groups vs output", "4x8x8 | conv 6 k3 g4", NotationError, "groups 4 does not divide the 6 output"),
    ("concat spatial", "input 3x8x8\na: conv 4 k3\nb: conv 4 k1 <- input\nconcat a b", ShapeError,
     "concat inputs differ in spatial sizes: 4x6x6, 4x8x8"),
    ("add unbroadcastable", "input 3x8x8\na: conv 4 k1\nb: conv 5 k1 <- input\nadd a b", ShapeError,
     "cannot add 4x8x8 and 5x8x8"),
    ("unknown input name", "input 3x8x8\na: conv 4 k1 <- inptu", GraphError,
     "unknown input 'inptu'; did you mean 'input'"),
    ("duplicate name", "input 3x8x8\na: relu\na: relu", NotationError, "duplicate layer name 'a'"),
    ("cycle", "input 3x8x8\na: add input c\nb: relu <- a\nc: relu <- b", GraphError, "cycle"),
    ("empty", "", SourceError, "empty source"),
    ("only comments", "# nothing\n\n", NotationError, "no layers"),
    ("no input", "conv 8 k3", NotationError, "start with an input line"),
    ("binary bytes", "input 3x8x8\n\x00\x01\x02", NotationError, "NUL bytes"),
    ("pool padding limit", "3x8x8 | maxpool k3 p2", ShapeError, "at most half the kernel 3"),
    ("same with stride", "3x8x8 | conv 8 k3 s2 same", ShapeError, "'same' is not supported for strided"),
    ("convT output padding", "3x8x8 | convT 8 k3 s1 op1", ShapeError,
     "output padding 1 must be smaller than either the stride 1 or the dilation 1"),
    ("kernel rank mismatch", "3x8x8 | conv 8 k3x3x3", ShapeError, "has 3 values (3x3x3) but the input has 2"),
    ("conv on a vector", "10 | conv 8 k3", ShapeError, "write the input as channels x size"),
    ("huge number", "3x8x8 | conv 8 k" + "9" * 5000, NotationError, "number too long"),
    ("bad directive", "convention cudaconv\n3x8x8", NotationError, "unknown convention"),
    ("reshape mismatch", "3x8x8 | reshape 7x-1", ShapeError, "cannot reshape 3x8x8"),
    ("permute bad", "3x8x8 | permute 0 1 2", ShapeError, "must reorder dims 0..3"),
    ("flatten range", "3x8x8 | flatten start=5", ShapeError, "out of range"),
    ("upsample both", "3x8x8 | upsample 2 size=4x4", NotationError, "either a scale"),
    ("bilinear on 1d", "3x8 | upsample 2 bilinear", ShapeError, "bilinear upsampling needs 2d"),
    ("arrow without names", "3x8x8 | relu <-", NotationError, "must be followed by input names"),
    ("name without kind", "3x8x8 | a:", NotationError, "has no kind"),
    ("not a source", "alexnet-paperr", SourceError, "not a file, a zoo model or notation"),
    ("missing file", "nets/none.net", SourceError, "no such file"),
    ("dropout range", "3x8x8 | dropout 1.5", NotationError, "between 0 and 1"),
    ("gn groups", "6x8x8 | gn 4", ShapeError, "4 groups do not divide the 6 channels"),
]


@pytest.mark.parametrize(("label", "text", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(label: str, text: str, error: type[NetarithError], message: str) -> None:
    with pytest.raises(error) as info:
        analyze(text)
    assert message in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)  # the root is a ValueError


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_parse_errors_show_caret() -> None:
    with pytest.raises(NotationError) as info:
        analyze("input 3x8x8\nconv 8 k3 q2")
    text = str(info.value)
    assert text.splitlines()[1].strip() == "conv 8 k3 q2"
    assert text.splitlines()[2].index("^") == text.splitlines()[1].index("q2")


def test_absurd_sizes_are_exact_and_fast() -> None:
    start = time.perf_counter()
    r = analyze("3x1000000x1000000 | conv 1000000 k3 | adaptiveavgpool 999999 | globalavgpool")
    assert r["conv_1"].shape.dims == (1_000_000, 999_998, 999_998)
    assert r["conv_1"].macs == 1_000_000 * 999_998 * 999_998 * 27
    assert time.perf_counter() - start < 5  # a guard against loops over sizes, not a benchmark


def test_ten_megabyte_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "big.net"
    path.write_text("input 3x8x8\n" + "# padding comment line\n" * 450_000 + "relu\n")
    assert path.stat().st_size > 10_000_000
    assert analyze(path).layers[-1].kind == "relu"
    bad = Path(str(tmp_path)) / "bad.net"
    bad.write_bytes(b"input 3x8x8\n" + bytes(range(128, 256)) * 80_000)
    with pytest.raises(SourceError, match="not UTF-8"):
        analyze(bad)


def test_spec_error_from_python() -> None:
    from netarith.ops.conv import Conv

    with pytest.raises(SpecError, match="conv: 'kernel' must be >= 1: 0"):
        Conv(out=8, kernel=(0,))


def test_layer_errors_know_their_layer_and_line() -> None:
    with pytest.raises(ShapeError) as shape:
        analyze("input 3x2x2\n\nconv3: conv 8 k3")
    assert (shape.value.layer, shape.value.line) == ("conv3", 3)
    with pytest.raises(GraphError) as graph:
        analyze("input 3x8x8\na: conv 4 k1 <- inptu")
    assert (graph.value.layer, graph.value.line) == ("a", 2)
