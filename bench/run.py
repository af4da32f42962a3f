"""``make bench``: netarith side by side with the tools users would pick instead.

Every measurement runs in a process of its own (``tasks.py``), so that its peak memory is
the whole process's (``peak.py``) and nothing one tool imported or cached helps another.
The results go to ``docs/benchmarks.json`` (every repeat), and ``report.py`` writes
``docs/benchmarks.md`` and the scaling plot from them.

    python bench/run.py                      # everything (about 15 minutes on 2 cores)
    python bench/run.py --quick              # fewer repeats, three models
    python bench/run.py --only chain,cold    # some groups; the others are kept from the last run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
import report  # noqa: E402

MODELS = ("alexnet", "vgg16", "resnet50", "resnet152", "densenet121", "efficientnet_b0")
QUICK_MODELS = ("alexnet", "resnet50", "resnet152")
CHAIN = (1_000, 10_000, 100_000)
MEMORY_TOOLS = ("baseline", "netarith-zoo", "netarith-module", "netarith-factory",
                "torchinfo", "fvcore", "ptflops", "thop")
GROUPS = ("imports", "cold", "zoo", "side", "memory", "torch", "chain", "before", "audit", "sizes", "onnx")
TORCH_ROWS = "netarith (zoo),netarith (from_torch),torchinfo.summary"


def _env(src: Path) -> dict[str, str]:
    """The children's environment: netarith from ``src``, bytecode cached as after an install."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH")) if p)
    return env


def child(args: Sequence[str], *, parse: bool = True, src: Path = ROOT / "src") -> dict[str, Any]:
    """Run a process to its end: its wall time, and its JSON answer (the last line it prints)."""
    start = time.perf_counter()
    proc = subprocess.run(list(args), capture_output=True, env=_env(src), cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{message}")
    result: dict[str, Any] = json.loads(proc.stdout.decode().strip().splitlines()[-1]) if parse else {}
    result["wall"] = wall
    return result


def task(*args: str, src: Path = ROOT / "src") -> dict[str, Any]:
    return child([sys.executable, str(HERE / "tasks.py"), *args], src=src)


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "netarith"
    return [str(script)] if script.exists() else [sys.executable, "-m", "netarith"]


def _processes(commands: dict[str, list[str]], repeats: int,
               sources: dict[str, Path] | None = None) -> dict[str, dict[str, Any]]:
    """Start each command ``repeats`` times, interleaved, after a first unrecorded round that
    writes the bytecode caches; then once more under ``peak.py`` for its peak memory. A command
    named in ``sources`` runs netarith from that tree (an earlier commit), the others this one's."""
    sources = sources or {}
    results: dict[str, dict[str, Any]] = {k: {"times": []} for k in commands}
    for round_ in range(repeats + 1):
        for key, command in commands.items():
            run = child(command, parse=False, src=sources.get(key, ROOT / "src"))
            if round_:
                results[key]["times"].append(run["wall"])
    for key, command in commands.items():
        src = sources.get(key, ROOT / "src")
        python, *rest = command
        if rest and rest[0] == "-m":  # python -m netarith: peak.py runs the package's __main__
            rest = [str(src / "netarith" / "__main__.py"), *rest[2:]]
        elif python != sys.executable:  # a console script
            rest = [python, *rest]
        results[key]["peak_kb"] = child([sys.executable, str(HERE / "peak.py"), *rest], src=src)["peak_kb"]
    return results


def _chains(rounds: int, repeats: int, src: Path = ROOT / "src") -> dict[str, dict[str, Any]]:
    """Each chain of CHAIN in ``rounds`` processes of ``repeats`` runs, the sizes taking turns,
    their runs pooled: the 100k / 10k ratio compares processes run minutes apart, and a spell of
    the machine's noise would otherwise fall on one size only."""
    pooled: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for n in CHAIN:
            result = task("chain", str(n), str(repeats), src=src)
            into = pooled.setdefault(str(n), {})
            for key, value in result.items():
                if isinstance(value, list):
                    into.setdefault(key, []).extend(value)
                elif key in ("peak_kb", "wall"):
                    into[key] = max(into.get(key, 0), value)
                else:
                    into[key] = value
    return pooled


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(group: str, models: Sequence[str], quick: bool, workdir: Path, torch_src: Path | None,
            before_src: Path | None) -> Any:
    few = quick
    if group == "imports":
        return task("imports")
    if group == "cold":
        python = [sys.executable]
        commands = {
            "python -c pass": [*python, "-c", "pass"],
            "python -c 'import netarith'": [*python, "-c", "import netarith"],
            "netarith analyze alexnet-paper": [*_cli(), "analyze", "alexnet-paper"],
        }
        sources = {}
        if before_src is not None:  # the same command on the earlier tree, in the same rounds
            before = f"netarith analyze alexnet-paper, before ({machine.commit(before_src)})"
            commands[before] = [*_cli(), "analyze", "alexnet-paper"]
            sources[before] = before_src
        return _processes(commands, 5 if few else 15, sources)
    if group == "zoo":
        return {m: task("zoo", m, "5" if few else "20") for m in models}
    if group == "side":
        out = {}
        for m in models:
            _log(f"  side by side: {m}")
            out[m] = task("side-by-side", m, "2" if few else "5")
        return out
    if group == "memory":
        out = {}
        for m in models:
            _log(f"  memory: {m}")
            out[m] = {}
            for tool in MEMORY_TOOLS:
                try:
                    out[m][tool] = task("memory", tool, m)
                except RuntimeError as exc:  # from_torch missing on this branch, a peer failing
                    out[m][tool] = {"error": str(exc).splitlines()[-1]}
        return out
    if group == "torch":
        # The zoo analysis and netarith.from_torch from another tree (an earlier commit), with
        # torchinfo in the same process for the ratios, and from_torch's peak memory.
        if torch_src is None:
            return None
        out = {"src": str(torch_src), "commit": machine.commit(torch_src), "models": {}}
        for m in models:
            _log(f"  from_torch ({torch_src}): {m}")
            side = task("side-by-side", m, "2" if few else "5", TORCH_ROWS, src=torch_src)
            side["memory"] = {tool: task("memory", tool, m, src=torch_src)
                              for tool in ("netarith-module", "netarith-factory")}
            out["models"][m] = side
        return out
    if group == "chain":
        return _chains(1 if few else 3, 3)
    if group == "before":
        # The same chain on an earlier tree (--before-src): what the work on speed changed.
        if before_src is None:
            return None
        return {"src": str(before_src), "commit": machine.commit(before_src),
                "chain": _chains(1 if few else 2, 3, before_src)}
    if group == "audit":
        return {"api": task("audit", "3" if few else "5"),
                "cli": _processes({"netarith audit alexnet-paper": [*_cli(), "audit", "alexnet-paper"]},
                                  3 if few else 5)}
    if group == "sizes":
        return {"api": task("sizes", "3" if few else "5"),
                "cli": _processes({"netarith sizes resnet50": [*_cli(), "sizes", "resnet50"]},
                                  3 if few else 5)}
    if group == "onnx":
        path = workdir / "bench500.onnx"
        child([sys.executable, str(HERE / "onnxfile.py"), str(path)], parse=False)
        return {"api": task("onnx", str(path), "5" if few else "10"),
                "cli": _processes({"netarith analyze bench500.onnx": [*_cli(), "analyze", str(path)]},
                                  3 if few else 5),
                "file_bytes": path.stat().st_size}
    raise ValueError(group)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/benchmarks.md", help="the Markdown report")
    parser.add_argument("--data", default="docs/benchmarks.json", help="every measurement, as JSON")
    parser.add_argument("--svg", default="docs/benchmarks-scaling.svg", help="the scaling plot")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and models (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated groups among {', '.join(GROUPS)}")
    parser.add_argument("--render", action="store_true", help="only rewrite the report from --data")
    parser.add_argument("--torch-src", type=lambda p: Path(p).resolve(), metavar="DIR",
                        help="also measure the zoo analysis and netarith.from_torch, with torchinfo, from this "
                        "source tree (a src/ directory): an earlier commit, for comparison")
    parser.add_argument("--before-src", type=lambda p: Path(p).resolve(), metavar="DIR",
                        help="also run the scaling chain and the start-up on this source tree (an earlier "
                        "commit), for comparison")
    args = parser.parse_args(argv)

    data_path = ROOT / args.data
    data: dict[str, Any] = json.loads(data_path.read_text()) if data_path.exists() else {}
    if not args.render:
        groups = args.only.split(",") if args.only else list(GROUPS)
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            parser.error(f"unknown group(s) {', '.join(unknown)}; choose among {', '.join(GROUPS)}")
        models = QUICK_MODELS if args.quick else MODELS
        data["machine"] = machine.describe(ROOT)
        data["quick"] = args.quick
        extra = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in ("--out", args.out)]
        run = {"options": " ".join(extra), "groups": groups, "date": data["machine"]["date"]}
        # A run of every group starts the page's history; a partial one (--only) is added to it.
        data["history"] = [*data.get("history", []), run] if args.only else [run]
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp:
            for group in groups:
                _log(f"{group}...")
                started = time.perf_counter()
                data[group] = measure(group, models, args.quick, Path(tmp), args.torch_src, args.before_src)
                _log(f"{group}: {time.perf_counter() - started:.0f} s")
        data["machine"]["load_before"] = load_before
        data["machine"]["load_after"] = os.getloadavg()
        data_path.parent.mkdir(parents=True, exist_ok=True)
        data_path.write_text(json.dumps(data, indent=1) + "\n")
    svg_path = ROOT / args.svg
    svg_path.write_text(report.scaling_svg(data))
    out = ROOT / args.out
    out.write_text(report.markdown(data, Path(os.path.relpath(svg_path, out.parent))))
    _log(f"wrote {out}, {svg_path}, {data_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
