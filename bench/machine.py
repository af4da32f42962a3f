"""The machine and the versions a benchmark ran on, read from /proc and the installed packages."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("netarith", "torch", "torchvision", "torchinfo", "fvcore", "ptflops", "thop", "onnx", "numpy")


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(root: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def commit(path: Path) -> str | None:
    """The commit a source tree is at (and + when it has changes)."""
    sha = _git(path, "rev-parse", "--short", "HEAD")
    if sha and _git(path, "status", "--porcelain", "--untracked-files=no"):
        sha += "+"
    return sha


def describe(root: Path) -> dict[str, Any]:
    mem = _proc_field("/proc/meminfo", "MemTotal")  # "24000000 kB"
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem.split()[0]) / 1024**2, 1) if mem else None,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {p: _version(p) for p in PACKAGES},
        "commit": _git(root, "rev-parse", "--short", "HEAD"),
        "dirty": bool(_git(root, "status", "--porcelain", "--untracked-files=no", "src")),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
