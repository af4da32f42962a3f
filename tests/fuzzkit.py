"""What the fuzzing shares: one checker per reader, the seeds, and the rule every input must obey.

The rule (issue 9): whatever text or bytes go in, a reader and the analysis after it end in a
result or in a :class:`NetarithError` that says where the problem is, within a time bound.
Anything else (another exception, an error without a location, a slow input) raises
:class:`Broken`. The property tests (``tests/test_fuzz_*.py``) and the coverage-guided targets
(``fuzz/targets.py``, run by ``make fuzz``) call the same checkers, so a crash atheris finds
is reproduced by the test suite with the input it found.

A location is, per reader:

* notation: a :class:`NotationError` with its line (and column), or a message that starts with
  ``line N:`` (shape and graph errors name the line of their layer), N a line of the text;
* claims files: the same for the YAML reader, or a message that names the claim (``claim 3``);
* prototxt, cfg and ONNX files: a message that starts with the file's name (``t.prototxt:3:7:``,
  ``t.cfg:8:1:``, ``m.onnx: node 4 'conv' (Conv):``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from netarith import NetarithError, NotationError, parse, to_notation
from netarith.analyze import Report, analyze_graph

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"

#: seconds one input may take, reader and analysis together (a guard against hangs, not a benchmark)
TIME_BOUND = 5.0

_LINE_AT = re.compile(r"^(?:\S+: )?line (\d+): ")

T = TypeVar("T")


class Broken(AssertionError):
    """An input that ended in neither a result nor a located NetarithError, or too slowly."""


def _timed(what: str, data: object, run: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        return run()
    finally:
        took = time.perf_counter() - start
        if took > TIME_BOUND:
            raise Broken(f"{what}: {took:.1f} s for one input (bound {TIME_BOUND} s): {_show(data)}")


def _show(data: object) -> str:
    text = repr(data)
    return text if len(text) < 400 else text[:400] + "..."


def _lines(text: str) -> int:
    return max(1, len(text.splitlines()))


def _require(ok: bool, what: str, exc: BaseException, data: object) -> None:
    if not ok:
        raise Broken(f"{what}: error without a location: {type(exc).__name__}: {exc}\n  input: {_show(data)}")


# -- notation --------------------------------------------------------------------------------------


def notation_location(exc: NetarithError, text: str) -> int | None:
    """The line a notation error points at (None when it names none)."""
    if isinstance(exc, NotationError):
        return exc.line
    match = _LINE_AT.match(str(exc))
    return int(match.group(1)) if match else None


#: errors about the whole text, which have no single line to point at
_WHOLE_TEXT = ("no layers: write at least an input",)


def check_notation(text: str, *, outputs: bool = True) -> Report | None:
    """Parse and analyse; the Report, or None after a located NetarithError. With ``outputs``,
    the report is also rendered in every text format and the graph printed back as notation,
    which must parse to the same graph."""
    def run() -> Report | None:
        try:
            graph = parse(text)
            report = analyze_graph(graph)
        except NetarithError as exc:
            line = notation_location(exc, text)
            ok = (line is not None and 1 <= line <= _lines(text)) or str(exc).startswith(_WHOLE_TEXT)
            _require(ok, "notation", exc, text)
            return None
        if outputs:
            _outputs(report)
            again = parse(to_notation(graph))
            if again != graph:
                raise Broken(f"notation: the printed graph parses to another graph\n  input: {_show(text)}")
        return report

    return _timed("notation", text, run)


def _outputs(report: Report) -> None:
    from netarith.report import FORMATS, render

    json.loads(report.to_json())
    for fmt in FORMATS:
        render(report, fmt)


# -- the web API's handlers (no server: the functions behind the routes) ------------------------------


def check_api(path: str, body: dict[str, Any]) -> int:
    """Call one API handler with a JSON body; its HTTP status. Library errors must come back as
    4xx answers with a message; nothing may escape as an exception (that would be a 500)."""
    from netarith.web import api

    def status(name: str, request: dict[str, Any]) -> int:
        try:
            result = api.HANDLERS[name](request)
        except api.ApiError as exc:
            if not 400 <= exc.status < 500 and exc.status != 501:
                raise Broken(f"api {name}: status {exc.status}: {exc}\n  body: {_show(request)}") from None
            if not exc.payload["error"]["message"]:
                raise Broken(f"api {name}: an error without a message\n  body: {_show(request)}") from None
            return exc.status
        if not isinstance(result, api.Download):
            json.dumps(result, allow_nan=False)
        return 200

    def run() -> int:
        got = status(path, body)
        # a network the analysis accepts must also draw, chart, export and explain: a 4xx there
        # is the endpoint failing on good input (as /api/explain did, handing a Report to explain)
        if got != 200 and path in ("draw", "chart", "export", "explain") and \
                status("analyze", {k: v for k, v in body.items() if k in ("source", "convention")}) == 200:
            layer = body.get("layer")
            if not (path == "explain" and layer is not None and status("explain", {**body, "layer": None}) == 200):
                raise Broken(f"api {path}: {got} for a network /api/analyze accepts\n  body: {_show(body)}")
        return got

    return _timed(f"api {path}", body, run)


_ENDPOINTS = ("analyze", "draw", "chart", "export", "explain", "sizes")
_EXPORTS = ("json", "csv", "markdown", "table", "svg", "graph-svg", "chart-svg")
_NAMED = re.compile(r"([A-Za-z_][\w.]*):")


def api_body(data: bytes) -> tuple[str, dict[str, Any]]:
    """A request from fuzzer bytes: the first byte picks the endpoint and its options, the rest
    is the notation."""
    from netarith.conventions import CONVENTIONS

    if not data:
        return "analyze", {"source": ""}
    pick, source = data[0], data[1:].decode("utf-8", "replace")
    path = _ENDPOINTS[pick % len(_ENDPOINTS)]
    more = pick // len(_ENDPOINTS)
    body: dict[str, Any] = {"source": source}
    if path == "draw":
        body.update(style=("volumes", "graph")[more % 2], collapse=bool(more & 2))
    elif path == "chart":
        body["log"] = bool(more % 2)
    elif path == "export":
        body["format"] = _EXPORTS[more % len(_EXPORTS)]
    elif path == "explain" and more % 2:
        named = _NAMED.search(source)
        body["layer"] = named.group(1) if named else "input"
    if more & 4:
        names = list(CONVENTIONS)
        body["convention"] = names[(more // 8) % len(names)]
    return path, body


# -- claims files (the YAML subset) -------------------------------------------------------------------


def check_claims(text: str, *, verdicts: bool = False) -> object | None:
    """Read a claims file; the ClaimsFile, or None after a located error. With ``verdicts``, a
    file that reads and names a zoo model also has each figure computed and judged (match,
    rounds, mismatch): the audit's first step, without its search for explanations."""
    from netarith.claims import load_claims

    source = "c.yaml"

    def run() -> object | None:
        try:
            claims = load_claims(text, source=source)
            if verdicts:
                _verdicts(claims)
        except NetarithError as exc:
            line = exc.line if isinstance(exc, NotationError) else None
            message = str(exc)
            ok = (line is not None and 1 <= line <= _lines(text)) or message.startswith(source) \
                or (isinstance(exc, NotationError) and exc.source == source) or message.startswith("claim ")
            _require(ok, "claims", exc, text)
            return None
        return claims

    return _timed("claims", text, run)


def _verdicts(claims: Any) -> None:
    from netarith import zoo
    from netarith.audit import figure_value

    if not zoo.exists(claims.model):
        return
    graph = zoo.build(claims.model)
    report = analyze_graph(graph if not claims.input else graph.with_input(claims.input),
                           convention=claims.convention)
    for claim in claims.claims:
        json.dumps(claim.value.as_json(), allow_nan=False)
        claim.value.verdict(figure_value(report, claim))


# -- model files ----------------------------------------------------------------------------------------


def _check_file(what: str, source: str, data: object, read: Callable[[], Any]) -> Report | None:
    def run() -> Report | None:
        try:
            graph = read()
            report = analyze_graph(graph)
        except NetarithError as exc:
            message = str(exc)
            _require(message.startswith(source), what, exc, data)
            return None
        _outputs(report)
        return report

    return _timed(what, data, run)


def check_prototxt(text: str) -> Report | None:
    from netarith.importers.caffe import from_prototxt

    return _check_file("prototxt", "t.prototxt", text, lambda: from_prototxt(text, source="t.prototxt"))


def check_cfg(text: str, params: str | None = None) -> Report | None:
    from netarith.importers.cudaconvnet import from_cfg

    extra = (params, "p.cfg") if params is not None else None
    return _check_file("cfg", "t.cfg", text, lambda: from_cfg(text, source="t.cfg", params=extra))


def check_onnx(data: bytes, folder: Path) -> Report | None:
    """Write the bytes to ``folder/m.onnx`` and read them as a model file."""
    from netarith.importers.onnx import load

    path = folder / "m.onnx"
    path.write_bytes(data)
    return _check_file("onnx", str(path), data, lambda: load(path))


# -- seeds ------------------------------------------------------------------------------------------------


def notation_seeds() -> Iterator[str]:
    """Valid notation: the examples, every kind, and the notation of a few zoo models."""
    for path in sorted((ROOT / "examples").glob("*.net")):
        yield path.read_text()
    yield (DATA / "every-kind.net").read_text()
    from netarith import zoo

    for name in ("lenet5", "alexnet", "resnet18", "googlenet", "mobilenet_v2", "squeezenet1_0"):
        if zoo.exists(name):
            yield to_notation(zoo.build(name))


def prototxt_seeds() -> Iterator[str]:
    for path in sorted((DATA / "model-files" / "BVLC_caffe").glob("*.prototxt")):
        yield path.read_text()


def cfg_seeds() -> Iterator[str]:
    for path in sorted((DATA / "model-files" / "cuda-convnet2").glob("layers-*.cfg")):
        yield path.read_text()


def claims_seeds() -> Iterator[str]:
    for path in sorted((DATA / "claims").glob("*.yaml")):
        yield path.read_text()
    claims = ROOT / "src" / "netarith" / "zoo" / "claims"
    for path in sorted(claims.glob("*.yaml"))[:6]:
        yield path.read_text()


def onnx_seeds() -> Iterator[bytes]:
    """Small valid ONNX models covering the importer's paths: convolutions and pooling, dense
    layers, shape arithmetic on constants, an If with a known condition, an op without a rule."""
    import numpy as np
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    def model(nodes: list[Any], x: list[Any], inits: dict[str, Any], opset: int = 17) -> bytes:
        graph = h.make_graph(nodes, "seed", [h.make_tensor_value_info("x", T.FLOAT, x)],
                             [h.make_tensor_value_info(nodes[-1].output[0], T.FLOAT, None)],
                             [nh.from_array(v, k) for k, v in inits.items()])
        m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
        m.ir_version = 8
        return bytes(m.SerializeToString())

    def node(op: str, ins: list[str], out: str, **attrs: Any) -> Any:
        return h.make_node(op, ins, [out], name=out, **attrs)

    f32 = np.float32
    w = np.ones((4, 3, 3, 3), f32)
    yield model([node("Conv", ["x", "W", "B"], "c", pads=[1, 1, 1, 1], strides=[2, 2]), node("Relu", ["c"], "r"),
                 node("MaxPool", ["r"], "p", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
                 node("GlobalAveragePool", ["p"], "g"), node("Flatten", ["g"], "f"),
                 node("Gemm", ["f", "G", "GB"], "fc", transB=1)],
                [1, 3, 16, 16], {"W": w, "B": np.ones(4, f32), "G": np.ones((10, 4), f32), "GB": np.ones(10, f32)})
    yield model([node("BatchNormalization", ["x", "s", "b", "m", "v"], "bn"), node("Sigmoid", ["bn"], "sg"),
                 node("Mul", ["bn", "sg"], "sw"), node("ConvTranspose", ["sw", "T"], "ct", strides=[2, 2]),
                 node("Resize", ["ct", "", "sc"], "up"), node("Pad", ["up", "pads"], "pd")],
                ["N", 3, 8, 8], {"s": np.ones(3, f32), "b": np.ones(3, f32), "m": np.ones(3, f32),
                                 "v": np.ones(3, f32), "T": np.ones((3, 2, 3, 3), f32),
                                 "sc": np.array([1, 1, 2, 2], f32), "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1])})
    yield model([h.make_node("Shape", ["x"], ["shape"]),
                 node("Gather", ["shape", "zero"], "n"), node("Unsqueeze", ["n", "ax"], "nu"),
                 node("Concat", ["nu", "m1"], "target", axis=0), node("Reshape", ["x", "target"], "flat"),
                 node("MatMul", ["flat", "M"], "mm"), node("Add", ["mm", "MB"], "y"), node("Softmax", ["y"], "sm")],
                ["N", 2, 4, 4], {"zero": np.array(0, np.int64), "ax": np.array([0], np.int64),
                                 "m1": np.array([-1], np.int64), "M": np.ones((32, 5), f32), "MB": np.ones(5, f32)})
    cond = h.make_tensor("cond", T.BOOL, [], [True])
    then = h.make_graph([node("Relu", ["x"], "t")], "then", [], [h.make_tensor_value_info("t", T.FLOAT, None)])
    other = h.make_graph([node("Sigmoid", ["x"], "e")], "else", [], [h.make_tensor_value_info("e", T.FLOAT, None)])
    yield model([h.make_node("Constant", [], ["k"], value=cond),
                 h.make_node("If", ["k"], ["i"], name="i", then_branch=then, else_branch=other),
                 node("Erf", ["i"], "erf"), h.make_node("Split", ["erf"], ["s0", "s1"], name="split", axis=1),
                 node("Concat", ["s0", "s1"], "cat", axis=1), node("LRN", ["cat"], "lrn", size=3),
                 node("AveragePool", ["lrn"], "ap", kernel_shape=[3], auto_pad="SAME_UPPER")],
                [1, 4, 9], {})


# -- a child process with a memory limit ---------------------------------------------------------------


def limited(code: str, *, memory_mb: int = 1024, seconds: float = 120, args: tuple[str, ...] = ()) -> Any:
    """Run Python ``code`` in a child with its address space limited to ``memory_mb`` (RLIMIT_AS)
    and a wall-clock bound; returns the CompletedProcess. The child can print its peak resident
    memory with ``peak_mb()`` from this module. A blow-up ends in MemoryError in the child, a hang
    in subprocess.TimeoutExpired here: both fail the calling test."""
    import os
    import resource
    import subprocess
    import sys

    def limit() -> None:
        size = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=seconds,
                          preexec_fn=limit, env=env, cwd=str(ROOT))


def peak_mb() -> float:
    """This process's peak resident memory in MiB: VmHWM of /proc/self/status. (getrusage's
    ru_maxrss would do, but Linux carries it across exec: a child of a large pytest process
    would report the parent's size.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the portable figure

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
