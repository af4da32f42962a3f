"""Coverage-guided fuzz targets (atheris, libFuzzer underneath), one per reader.

    python fuzz/targets.py NAME [libFuzzer options] [CORPUS_DIR ...]
    python fuzz/targets.py NAME --seeds DIR      (write the target's seed inputs to DIR)

Each target turns the fuzzer's bytes into the reader's input and calls the checker of
``tests/fuzzkit.py``: a result or a located NetarithError within the time bound is a pass,
anything else raises and libFuzzer saves the input as a crash. ``fuzz/run.py`` (``make fuzz``)
runs every target for a bounded time, with a memory limit, and reports executions and crashes.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import atheris  # noqa: E402

with atheris.instrument_imports(include=["netarith"]):
    import netarith
    import netarith.audit
    import netarith.claims
    import netarith.draw
    import netarith.draw.bars
    import netarith.draw.blocks
    import netarith.draw.dag
    import netarith.draw.svgkit
    import netarith.draw.volumes
    import netarith.explain
    import netarith.importers.caffe
    import netarith.importers.cudaconvnet
    import netarith.importers.onnx
    import netarith.importers.prototext
    import netarith.report
    import netarith.report.csv
    import netarith.report.json
    import netarith.report.markdown
    import netarith.report.table
    import netarith.sizes
    import netarith.solve
    import netarith.web.api
    import netarith.yamlite  # noqa: F401

from tests import fuzzkit  # noqa: E402

_TMP = Path(tempfile.mkdtemp(prefix="netarith-fuzz-"))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _api(data: bytes) -> None:
    path, body = fuzzkit.api_body(data)
    fuzzkit.check_api(path, body)


TARGETS: dict[str, Callable[[bytes], object]] = {
    "notation": lambda data: fuzzkit.check_notation(_text(data)),
    "api": _api,
    "claims": lambda data: fuzzkit.check_claims(_text(data), verdicts=True),
    "prototxt": lambda data: fuzzkit.check_prototxt(_text(data)),
    "cfg": lambda data: fuzzkit.check_cfg(_text(data)),
    "onnx": lambda data: fuzzkit.check_onnx(data, _TMP),
}


def seeds(name: str) -> Iterator[bytes]:
    if name == "onnx":
        yield from fuzzkit.onnx_seeds()
        return
    if name == "api":
        for i, text in enumerate(fuzzkit.notation_seeds()):
            for option in range(7):
                yield bytes([(i * 7 + option) % 256]) + text.encode()
        return
    source = {"notation": fuzzkit.notation_seeds, "claims": fuzzkit.claims_seeds,
              "prototxt": fuzzkit.prototxt_seeds, "cfg": fuzzkit.cfg_seeds}[name]
    for text in source():
        yield text.encode()


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [CORPUS ...]")
    name = sys.argv.pop(1)
    if sys.argv[1:2] == ["--seeds"]:
        folder = Path(sys.argv[2])
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(seeds(name)):
            (folder / f"seed-{i:03d}").write_bytes(data)
        return
    target = TARGETS[name]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
