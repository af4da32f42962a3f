from __future__ import annotations

import pytest

from netarith import NetarithError, Shape, SpecError, get_convention


def test_parse_and_properties() -> None:
    s = Shape.parse("3x224x224")
    assert s.dims == (3, 224, 224)
    assert s.channels == 3 and s.spatial == (224, 224) and s.rank == 2
    assert s.numel == 150_528
    assert str(s) == "3x224x224"
    assert Shape.parse("1, 16000").dims == (1, 16000)
    assert Shape.parse((3, 16, 112, 112)).rank == 3


@pytest.mark.parametrize("bad", ["", "3x", "x3", "3x0x4", "-3x4", "3.5x4", "abc", "3xx4"])
def test_bad_shapes(bad: str) -> None:
    with pytest.raises(NetarithError):
        Shape.parse(bad)


def test_huge_shape_is_exact() -> None:
    s = Shape.parse("1000000x1000000x1000000")
    assert s.numel == 10**18


def test_conventions() -> None:
    assert get_convention(None).name == "pytorch"
    assert get_convention("cuda-convnet").conv_rounding == "ceil"
    assert get_convention("TF").name == "tensorflow"
    with pytest.raises(SpecError, match="did you mean 'caffe'"):
        get_convention("cafe")
