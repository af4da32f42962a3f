"""Op.__post_init__ checks only the arguments given a value other than their declared default
(ops/base.py): so every declared default must pass the same check. This test is that check."""

from __future__ import annotations

import pytest

from netarith._values import MISSING
from netarith.ops.base import KINDS, _check_value, arg_fields


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_declared_default_is_a_valid_value(kind: str) -> None:
    cls = KINDS[kind]
    for f, spec in arg_fields(cls):
        if f.default is not MISSING:
            _check_value(kind, f.name, spec, f.default)


def test_a_value_given_is_still_checked() -> None:
    from netarith.errors import SpecError
    from netarith.ops.conv import Conv

    with pytest.raises(SpecError, match="'stride' must be >= 1"):
        Conv(out=8, kernel=(3,), stride=(0,))
    with pytest.raises(SpecError, match="'padding' must be"):
        Conv(out=8, kernel=(3,), padding=((1, True),))
