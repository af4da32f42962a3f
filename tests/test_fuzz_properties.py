"""Property tests over random and mutated input (issue 9): every input ends in a result or a
located NetarithError, within tests/fuzzkit.py's time bound.

Random notation is built from the layer registry itself (each kind's short tokens, flags, long
keys and positional values, with sizes from 0 to 10^13 and names that may not exist), so a new
kind is fuzzed the day it is registered. Mutated input starts from valid seeds (the examples,
every kind, zoo models, claims files, the Caffe and cuda-convnet files) and deletes, inserts,
duplicates and replaces pieces of them. The coverage-guided targets in fuzz/ (``make fuzz``)
run the same checkers for longer; these stay within a few seconds for ``make test``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netarith.ops.base import REGISTRY, arg_fields

from . import fuzzkit

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- numbers that hit the edges: zero, negatives, one, small, and absurdly large ---------------------
SIZES = st.one_of(st.integers(0, 9), st.integers(10, 300), st.sampled_from([10**6, 10**12, 2**63, 10**13]))
VALUES = st.one_of(st.integers(-3, 9), st.integers(10, 100), st.sampled_from([10**6, 10**12, -(10**9)]))
FLOATS = st.sampled_from(["0", "0.5", "1", "1.5", "-1", "1e-9", "1e9", "nan", "inf", "2/3"])


def _value(kind: str) -> st.SearchStrategy[str]:
    """Text for one argument value of a given ArgSpec kind (valid or not)."""
    joined = st.lists(VALUES, min_size=1, max_size=4).map(lambda v: "x".join(map(str, v)))
    return {
        "int": VALUES.map(str),
        "sizes": joined,
        "ints": joined,
        "padding": st.one_of(joined, st.sampled_from(["same", "valid", "1+0", "0+2x1", "-1+1"])),
        "float": FLOATS,
        "ratios": st.one_of(FLOATS, joined),
        "bool": st.sampled_from(["true", "false", "yes", "maybe"]),
        "shape": st.lists(SIZES, min_size=1, max_size=5).map(lambda v: "x".join(map(str, v))),
    }.get(kind, st.sampled_from(["a", "nearest", "bilinear", "reflect", "x1", "channels"]))


@functools.cache
def _kind_tokens(kind: str) -> st.SearchStrategy[list[str]]:
    """Argument tokens for one kind, drawn from its declared grammar."""
    options: list[st.SearchStrategy[str]] = []
    for f, spec in arg_fields(REGISTRY[kind]):
        value = _value(spec.kind)
        options.append(value.map(lambda v, key=f.name: f"{key}={v}"))
        if spec.short:
            options.append(value.map(lambda v, short=spec.short: f"{short}{v}"))
        if spec.positional:
            options.append(value)
        for word, _ in spec.flags:
            options.append(st.just(word))
    options.append(st.sampled_from(["input", "a", "b", "zz9", "@train", "k3", "s2", "p1"]))
    return st.lists(st.one_of(options), max_size=5)


KINDS = sorted(REGISTRY)
NAMES = st.sampled_from(["a", "b", "c", "input", "x.y", "l[0]"])


@st.composite
def layer_line(draw: Any) -> str:
    kind = draw(st.sampled_from(KINDS))
    tokens = draw(_kind_tokens(kind))
    name = draw(st.one_of(st.none(), NAMES))
    arrow = draw(st.one_of(st.none(), st.lists(NAMES, min_size=1, max_size=3)))
    line = (f"{name}: " if name else "") + " ".join([kind, *tokens])
    return line + (f" <- {', '.join(arrow)}" if arrow else "")


@st.composite
def random_notation(draw: Any) -> str:
    shape = "x".join(map(str, draw(st.lists(SIZES, min_size=1, max_size=4))))
    head = draw(st.sampled_from([f"input {shape}", shape, f"a: input {shape}", "", "convention cuda-convnet\n"
                                 f"input {shape}"]))
    layers = draw(st.lists(layer_line(), min_size=0, max_size=8))
    joiner = draw(st.sampled_from(["\n", " | "]))
    return joiner.join([head, *layers]) if head else joiner.join(layers)


# -- mutations of valid text ---------------------------------------------------------------------------
PIECES = ["|", "#", ":", "<-", ",", "=", "x", "0", "-1", "+", "1e9", "999999999999", "\n", "  ", "\t", "é", "[",
          "]", "{", "}", '"', "'", "- ", "---", "\x00", "\ufeff", "\u2028", "input", "conv", "k0", "@train"]


@st.composite
def mutated(draw: Any, seeds: tuple[str, ...]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["delete", "insert", "number", "line", "truncate"]))
        if how == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif how == "insert":
            text = text[:at] + draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=3))) + text[at:]
        elif how == "number":
            numbers = list(re.finditer(r"\d+", text))
            if numbers:
                m = numbers[draw(st.integers(0, len(numbers) - 1))]
                text = text[:m.start()] + str(draw(VALUES)) + text[m.end():]
        elif how == "line":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines)))
            lines.insert(j, lines[i])
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


NOTATION_SEEDS = tuple(fuzzkit.notation_seeds())


@SETTINGS
@given(random_notation())
def test_random_notation(text: str) -> None:
    fuzzkit.check_notation(text)


@SETTINGS
@given(mutated(NOTATION_SEEDS))
def test_mutated_notation(text: str) -> None:
    fuzzkit.check_notation(text)


@settings(SETTINGS, max_examples=60)
@given(st.one_of(random_notation(), mutated(NOTATION_SEEDS[:6])), st.integers(0, 255))
def test_api_handlers(text: str, pick: int) -> None:
    """The functions behind the routes: only 4xx answers with a message, never an exception, and
    a network /api/analyze accepts also draws, charts, exports and explains."""
    fuzzkit.check_api(*fuzzkit.api_body(bytes([pick]) + text.encode()))


@SETTINGS
@given(mutated(tuple(fuzzkit.claims_seeds())))
def test_mutated_claims(text: str) -> None:
    fuzzkit.check_claims(text)


@SETTINGS
@given(mutated(tuple(fuzzkit.prototxt_seeds())))
def test_mutated_prototxt(text: str) -> None:
    fuzzkit.check_prototxt(text)


@SETTINGS
@given(mutated(tuple(fuzzkit.cfg_seeds())))
def test_mutated_cfg(text: str) -> None:
    fuzzkit.check_cfg(text)


@pytest.fixture(scope="module")
def onnx_seeds() -> tuple[bytes, ...]:
    pytest.importorskip("onnx")
    return tuple(fuzzkit.onnx_seeds())


@settings(SETTINGS, max_examples=60)
@given(st.data())
def test_mutated_onnx(onnx_seeds: tuple[bytes, ...], tmp_path_factory: pytest.TempPathFactory,
                      data: st.DataObject) -> None:
    blob = bytearray(data.draw(st.sampled_from(onnx_seeds)))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        how = data.draw(st.sampled_from(["flip", "truncate", "delete", "insert"]))
        if how == "flip":
            blob[at] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "truncate":
            del blob[at:]
        elif how == "delete":
            del blob[at:at + data.draw(st.integers(1, 8))]
        else:
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        if not blob:
            break
    fuzzkit.check_onnx(bytes(blob), tmp_path_factory.mktemp("onnx"))
