"""Every crash the fuzzing found (hypothesis, the mutation runs and atheris), kept as a test.

Each row is the input that broke a reader (an exception that was not a NetarithError, an error
without a location, a hang) and the located message it gives now. The checkers of
tests/fuzzkit.py run it too, so the row also proves the input now obeys the fuzzing rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netarith import NetarithError
from netarith.claims import load_claims, parse_value
from netarith.importers.cudaconvnet import from_cfg
from netarith.yamlite import load as load_yaml

from . import fuzzkit

_CLAIM = "model: alexnet-paper\nclaims:\n  - figure: conv1.neurons\n    value: {}\n"

# (label, reader, input, message the located error must contain)
CRASHES: list[tuple[str, str, str, str]] = [
    # cuda-convnet: a layer without 'inputs=' reached the op (IndexError in Softmax.infer)
    ("cfg: softmax without inputs", "cfg", "[logprob]\ntype=softmax\n",
     "t.cfg:1:1: logprob: softmax takes 1 input(s), got 0"),
    ("cfg: neuron layer chain without inputs", "cfg", "[data]\ntype=data\n[r]\ntype=neuron\nneuron=relu\n",
     "[r] takes one input, got 0"),
    # claims: a figure with no value (AttributeError: None has no strip)
    ("claims: empty value", "claims", _CLAIM.format(""), "claim 1 (conv1.neurons): not a figure: None"),
    ("claims: a list as value", "claims", _CLAIM.format("[1, 2]"), "not a figure: [1, 2]"),
    # claims: Python refuses to convert more than 4,300 digits (a plain ValueError)
    ("claims: 5,000-digit figure", "claims", _CLAIM.format('"' + "1" * 5000 + '"'), "is not a printed figure"),
    ("yaml: 5,000-digit integer", "claims", _CLAIM.format("1" * 5000), "c.yaml:4:12: an integer of 5,000 digits"),
    # claims: 10^(10^9) would be computed exactly (a hang and gigabytes)
    ("claims: huge exponent", "claims", _CLAIM.format('"1e999999999"'), "the exponent 999999999 is out of range"),
    # yaml: an empty item in a flow list (IndexError)
    ("yaml: empty flow item", "claims", "model: x\nclaims: [1, , 2]\n", "2:9: an empty item in a flow list"),
    # yaml: nesting by indentation recursed once per level (RecursionError)
    ("yaml: deep nesting", "claims", "a:\n" + "".join(" " * i + "- \n" for i in range(1, 3000)),
     "nested more than 64 levels deep"),
    # claims: a bad input or convention failed later, in the audit, without naming the file
    ("claims: bad input", "claims", "model: x\ninput: 3xq\nclaims: []\n", "c.yaml: 'input': not a shape: '3xq'"),
    ("claims: bad convention", "claims", "model: x\nconvention: caffee\nclaims: []\n",
     "c.yaml: 'convention': unknown convention 'caffee'; did you mean 'caffe'?"),
]


def _reader(kind: str) -> Callable[[str], object]:
    return {
        "cfg": lambda text: from_cfg(text, source="t.cfg"),
        "claims": lambda text: load_claims(text, source="c.yaml"),
        "yaml": lambda text: load_yaml(text, source="c.yaml"),
    }[kind]


def _checker(kind: str) -> Callable[[str], object]:
    return {"cfg": fuzzkit.check_cfg, "claims": fuzzkit.check_claims}[kind]


@pytest.mark.parametrize(("label", "kind", "text", "message"), CRASHES, ids=[c[0] for c in CRASHES])
def test_crash_is_now_a_located_error(label: str, kind: str, text: str, message: str) -> None:
    with pytest.raises(NetarithError) as info:
        _reader(kind)(text)
    assert message in str(info.value), str(info.value)
    _checker(kind)(text)  # and the fuzzing rule holds for it


def test_a_shape_of_a_million_digits() -> None:
    """Shape.parse handed Python a million-digit size (ValueError past 4,300 digits); found by
    test_absurd_sizes.py."""
    from netarith import NotationError, SpecError, analyze
    from netarith.shape import Shape

    with pytest.raises(SpecError, match="a size of more than 4,000 digits"):
        Shape.parse("3x" + "9" * 10**6)
    with pytest.raises(NotationError, match="more than 4,000 digits"):
        analyze("3x" + "9" * 10**6 + " | relu")
    fuzzkit.check_notation("3x" + "9" * 5000 + " | relu")


def test_figures_still_read() -> None:
    """The limits leave every printed figure readable (the claims files' own forms)."""
    assert parse_value("3.8x10^9").number == 3_800_000_000
    assert parse_value("1e60").number == 10**60
    assert parse_value("253,440").exact
    assert load_yaml("a: [1, 2]\nb: " + "9" * 100) == {"a": [1, 2], "b": int("9" * 100)}


def test_crash_files_from_make_fuzz() -> None:
    """Inputs saved by ``make fuzz`` under tests/data/fuzz-crashes/TARGET-* replay clean."""
    folder = Path(__file__).parent / "data" / "fuzz-crashes"
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        target = path.name.split("-")[0]
        data = path.read_bytes()
        if target == "onnx":
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                fuzzkit.check_onnx(data, Path(tmp))
        elif target == "api":
            fuzzkit.check_api(*fuzzkit.api_body(data))
        else:
            check: Callable[[str], object] = {
                "notation": fuzzkit.check_notation, "claims": fuzzkit.check_claims,
                "prototxt": fuzzkit.check_prototxt, "cfg": fuzzkit.check_cfg,
            }[target]
            check(data.decode("utf-8", "replace"))


def test_onnx_name_not_utf8(tmp_path: Path) -> None:
    """A flipped bit in a node's name made protobuf hand the name over as bytes, and naming the
    layer raised TypeError (found by test_malformed_files' bit flips)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h

    graph = h.make_graph([h.make_node("Relu", ["x"], ["y"], name="r\u00e9lu")], "g",
                         [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 4, 4])],
                         [h.make_tensor_value_info("y", T.FLOAT, None)])
    data = onnx.helper.make_model(graph).SerializeToString().replace("r\u00e9lu".encode(), b"r\xff\xa9lu")
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    from netarith.importers.onnx import load

    with pytest.raises(NetarithError, match=r"m.onnx: not a valid ONNX model \(a name is not UTF-8 text"):
        load(path)
    fuzzkit.check_onnx(data, tmp_path)
