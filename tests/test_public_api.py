"""The public surface is pinned, and importing netarith stays light."""

from __future__ import annotations

import subprocess
import sys

import netarith

PUBLIC = [
    "CONVENTIONS", "DTYPES", "Builder", "Convention", "Graph", "GraphError", "LayerResult",
    "MissingExtraError", "NetarithError", "Node", "NotationError", "Report", "Shape", "ShapeError",
    "SourceError", "SpecError", "Totals", "__version__", "analyze", "from_torch", "get_convention", "load", "parse",
    "to_notation", "to_torch", "to_torch_code",
]


def test_public_names_are_pinned() -> None:
    assert sorted(netarith.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(netarith, name)


def test_exceptions_share_one_root() -> None:
    for name in ("GraphError", "MissingExtraError", "NotationError", "ShapeError", "SourceError", "SpecError"):
        assert issubclass(getattr(netarith, name), netarith.NetarithError)
    assert issubclass(netarith.NetarithError, ValueError)


def test_import_uses_the_standard_library_only() -> None:
    code = (
        "import sys, netarith; netarith.analyze('3x8x8 | conv 4 k3');"
        "heavy = [m for m in ('torch', 'numpy', 'onnx', 'starlette', 'uvicorn', 'yaml') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_a_command_starts_without_typing_dataclasses_or_inspect() -> None:
    """Their imports were most of a command's start-up: the modules a command loads use typing
    only when type-checked, and ``_values`` in place of dataclasses (which imports inspect)."""
    code = (
        "import contextlib, io, sys\n"
        "from netarith.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['analyze', 'alexnet-paper'], ['analyze', 'resnet50', '--format', 'json'],\n"
        "                 ['audit', 'alexnet-paper'], ['sizes', 'resnet50']):\n"
        "        assert main(argv) == 0, argv\n"
        "print(','.join(m for m in ('typing', 'dataclasses', 'inspect') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
