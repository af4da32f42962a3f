"""The command line: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netarith.cli import main

from .conftest import EXAMPLES


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_done_when(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "3x227x227 | conv1: conv 96 k11 s4", "--format", "json")
    assert code == 0
    conv1 = json.loads(out)["layers"][1]
    assert conv1["output_shape"] == [96, 55, 55]
    assert (conv1["neurons"], conv1["params"], conv1["macs"]) == (290_400, 34_944, 105_415_200)
    code, out, _ = run(capsys, "analyze", "3x227x227 | conv1: conv 96 k11 s4", "-i", "3x224x224", "-f", "json")
    conv1 = json.loads(out)["layers"][1]
    assert conv1["output_shape"] == [96, 54, 54] and conv1["warnings"]
    code, out, _ = run(capsys, "analyze", "3x224x224 | conv1: conv 96 k11 s4", "--convention", "cuda-convnet",
                       "-f", "json")
    assert json.loads(out)["layers"][1]["output_shape"] == [96, 55, 55]


def test_analyze_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", str(EXAMPLES / "alexnet-paper.net"))
    assert code == 0
    assert "60,965,224" in out and "659,272" in out and "290,400" in out
    assert "conv1" in out.split("warnings:")[1]


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_other_formats(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(capsys, "analyze", str(EXAMPLES / "residual-block.net"), "-f", fmt)
    assert code == 0 and "down_bn" in out


def test_error_exit_code_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "analyze", "3x8x8 | maxpol k2")
    assert code == 2 and out == ""
    assert err.startswith("netarith: error: 1:9: unknown kind 'maxpol'; did you mean 'maxpool'?")
    assert "Traceback" not in err


def test_show_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(EXAMPLES / "inception-block.net"))
    assert code == 0
    from netarith import parse

    assert parse(out) == parse((EXAMPLES / "inception-block.net").read_text())


def test_export_pytorch(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", str(EXAMPLES / "alexnet-paper.net"), "--to", "pytorch")
    assert code == 0
    assert "class AlexnetPaper(nn.Module):" in out
    assert "nn.Conv2d(96, 256, kernel_size=(5, 5), padding=(2, 2), groups=2)" in out
    compile(out, "<export>", "exec")


def test_stdin_and_subprocess_exit_code() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "netarith", "analyze", "-", "-f", "json"],
        input="input 3x32x32\nconv 8 k3\n", capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["params"] == 224
    bad = subprocess.run(
        [sys.executable, "-m", "netarith", "analyze", "-"],
        input="input 3x32x32\nconv 8 k40\n", capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "kernel 40 is larger than the padded input 32x32" in bad.stderr


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from netarith import NotationError

    with pytest.raises(NotationError):
        main(["--debug", "analyze", "3x8x8 | maxpol"])


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 2 and "analyze" in out
