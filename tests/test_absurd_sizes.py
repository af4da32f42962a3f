"""Absurd sizes (issue 9): 10^12 pixels, 10^6 channels, 100,000 layers compute exactly or fail
clearly, without a hang or a memory blow-up.

Each case runs in a child process whose address space is limited (RLIMIT_AS, tests/fuzzkit.py
``limited``) and whose wall time is bounded, so a blow-up is a MemoryError there and a hang a
timeout here. Expected numbers come from the output-size formula of
shared/reference/conv-arithmetic.md (floor((i + 2p - k)/s) + 1) written out in the test, and
from counting weights by hand (k*k*C_in*C_out + C_out): no netarith code computes them.
"""

from __future__ import annotations

import json

import pytest

from . import fuzzkit

MB = 1024  # the child's address space, MiB: far above what these networks need, far below a blow-up


def _child(code: str, *, memory_mb: int = MB, seconds: float = 180) -> dict[str, object]:
    done = fuzzkit.limited(code + "\nimport json; from tests.fuzzkit import peak_mb\n"
                           "print(json.dumps({**OUT, 'peak_mb': peak_mb()}))", memory_mb=memory_mb, seconds=seconds)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _out(i: int, k: int, s: int = 1, p: int = 0) -> int:
    return (i + 2 * p - k) // s + 1


def test_a_trillion_pixels_exactly() -> None:
    side = 10**6
    got = _child(
        "from netarith import analyze\n"
        "from netarith.draw import chart, draw\n"
        "from netarith.explain import explain\n"
        f"r = analyze('3x{side}x{side} | c: conv 64 k7 s2 p3 | bn | relu | p: maxpool k3 s2 p1 | "
        "a: adaptiveavgpool 7 | flatten | fc: linear 1000')\n"
        "draw(r); chart(r); r.to_json(); explain(r.graph, 'p')\n"
        "OUT = {'c': r['c'].shape.dims, 'macs': r['c'].macs, 'p': r['p'].shape.dims, 'neurons': r.totals.activations,"
        " 'rf': r['p'].rf is not None}\n")
    conv = _out(side, 7, 2, 3)
    pool = _out(conv, 3, 2, 1)
    assert got["c"] == [64, conv, conv] and got["p"] == [64, pool, pool]
    assert got["macs"] == 64 * conv * conv * 3 * 7 * 7
    assert got["neurons"] == 3 * side**2 + 3 * 64 * conv**2 + 64 * pool**2 + 64 * 49 * 2 + 1000
    assert float(str(got["peak_mb"])) < 200


def test_a_trillion_pixels_along_one_axis() -> None:
    n = 10**12
    got = _child(
        "from netarith import analyze\n"
        f"r = analyze('1x{n} | c: conv 16 k3 d2 s3 | p: maxpool 2 ceil | u: upsample 1000 | g: globalavgpool')\n"
        "OUT = {'c': r['c'].shape.dims, 'p': r['p'].shape.dims, 'u': r['u'].shape.dims, 'g': r['g'].shape.dims}\n")
    conv = _out(n, 5, 3)  # dilation 2 makes the 3-tap kernel span 5
    pool = -(-(conv - 2) // 2) + 1  # ceil mode, no padding: the last window always starts inside
    assert got["c"] == [16, conv] and got["p"] == [16, pool]
    assert got["u"] == [16, pool * 1000] and got["g"] == [16, 1]


def test_a_million_channels() -> None:
    c = 10**6
    got = _child(
        "from netarith import analyze\n"
        f"r = analyze('{c}x8x8 | conv1: conv {c} k3 p1 | bn1: bn | g: gn 1000 | flatten | fc: linear {c}')\n"
        "OUT = {'conv': r['conv1'].params, 'bn': r['bn1'].params, 'fc': r['fc'].params, 'macs': r.totals.macs}\n")
    assert got["conv"] == 3 * 3 * c * c + c
    assert got["bn"] == 2 * c
    assert got["fc"] == c * 8 * 8 * c + c
    assert got["macs"] == c * c * 9 * 64 + c * 64 * c


def test_a_hundred_thousand_layers() -> None:
    """Through the command line, as a user would: a notation file of 100,000 layers, every
    output format; the counts are 100,000 times one layer's."""
    layers = 100_000
    got = _child(
        "import contextlib, io, pathlib, tempfile\n"
        "from netarith.cli import main\n"
        "folder = pathlib.Path(tempfile.mkdtemp())\n"
        "path = folder / 'deep.net'\n"
        f"path.write_text('input 3x8x8\\n' + 'conv 3 k3 p1\\nrelu\\n' * {layers // 2})\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    code = main(['analyze', str(path), '--format', 'json'])\n"
        "import json as j\n"
        "data = j.loads(buf.getvalue())\n"
        "OUT = {'code': code, 'layers': len(data['layers']), 'params': data['totals']['params'],"
        " 'last': data['layers'][-1]['output_shape'], 'rf': data['layers'][-1]['receptive_field']['size']}\n",
        seconds=300)
    assert got["code"] == 0 and got["layers"] == layers + 1
    assert got["params"] == layers // 2 * (3 * 3 * 3 * 3 + 3)
    assert got["last"] == [3, 8, 8]
    assert got["rf"] == [2 * layers // 2 + 1] * 2  # each 3x3 conv at stride 1 widens the field by 2
    assert float(str(got["peak_mb"])) < 800


def test_a_hundred_thousand_inputs_to_one_concat() -> None:
    got = _child(
        "from netarith import analyze\n"
        "r = analyze('input 3x8x8\\ncat: concat ' + ' '.join(['input'] * 100000))\n"
        "OUT = {'cat': r['cat'].shape.dims}\n")
    assert got["cat"] == [300_000, 8, 8]


def test_sizes_of_a_huge_input_are_bounded() -> None:
    """sizes walked every size from 1 to twice the input: 50 s at 10^6, never ending at 10^12."""
    got = _child(
        "import time\n"
        "from netarith.sizes import MAX_SPAN, sizes\n"
        "start = time.perf_counter()\n"
        "s = sizes('3x1000000000000 | conv 64 k7 s2 p3 | maxpool k3 s2')\n"
        "OUT = {'seconds': time.perf_counter() - start, 'range': s.range, 'span': MAX_SPAN,"
        " 'nearest': s.nearest_exact['L'], 'min': s.min_input}\n", seconds=120)
    lo, hi = got["range"]  # type: ignore[misc]
    assert hi - lo + 1 == got["span"] and lo <= 10**12 <= hi
    below, above = got["nearest"]  # type: ignore[misc]

    def lost(i: int, k: int, s: int, before: int, after: int) -> tuple[int, int]:
        """(output size, input pixels no window reaches): the pixels past the last window,
        less the end padding (conv-arithmetic.md, floor rounding)."""
        out = (i + before + after - k) // s + 1
        unused = i + before + after - ((out - 1) * s + k)
        return out, max(0, unused - after)

    def exact(n: int) -> bool:  # neither the conv (k7 s2 p3) nor the pool (k3 s2) drops a pixel
        conv, dropped = lost(n, 7, 2, 3, 3)
        return dropped == 0 and lost(conv, 3, 2, 0, 0)[1] == 0

    assert exact(below) and exact(above) and not any(exact(n) for n in range(below + 1, above))
    assert got["min"] == [5]  # conv of 5 -> 3, pool k3 -> 1
    assert float(str(got["seconds"])) < 60


def test_sizes_refuses_a_huge_range() -> None:
    from netarith import SpecError
    from netarith.sizes import sizes

    with pytest.raises(SpecError, match=r"the range 1:1000000000000 holds 1,000,000,000,000 sizes; at most 65,536"):
        sizes("3x32x32 | conv 8 k3", range=(1, 10**12))


def test_numbers_too_long_to_read_are_refused_at_once() -> None:
    got = _child(
        "import time\n"
        "from netarith import NetarithError, analyze\n"
        "start = time.perf_counter()\n"
        "messages = []\n"
        "for text in ['3x8x8 | conv 8 k' + '9' * 10**6, '3x' + '9' * 10**6 + ' | relu',"
        " '3x8x8 | upsample ' + '9' * 10**6]:\n"
        "    try:\n"
        "        analyze(text)\n"
        "    except NetarithError as exc:\n"
        "        messages.append(str(exc).splitlines()[0][:120])\n"
        "OUT = {'messages': messages, 'seconds': time.perf_counter() - start}\n")
    assert len(got["messages"]) == 3, got  # type: ignore[arg-type]
    assert float(str(got["seconds"])) < 10
