"""Run every fuzz target for a bounded time and report executions and crashes (``make fuzz``).

    python fuzz/run.py [--seconds 60] [--rss-mb 2048] [--timeout 20] [--out docs/fuzz-results.md]
                       [TARGET ...]

Each target runs in its own process (``fuzz/targets.py``) from its seeds plus the corpus kept
in ``.fuzz/corpus/TARGET`` by earlier runs, with libFuzzer's limits: ``-max_total_time`` (the
bound), ``-rss_limit_mb`` (a memory blow-up is a crash) and ``-timeout`` (a hang is a crash).
A crash input lands in ``.fuzz/crashes/``; the run then fails, and the input becomes a
regression test in ``tests/test_fuzz_regressions.py``. The results table goes to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".fuzz"
TARGETS = ("notation", "api", "claims", "prototxt", "cfg", "onnx")

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_COV = re.compile(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)")


def run_target(name: str, seconds: int, rss_mb: int, timeout: int) -> dict[str, object]:
    corpus = WORK / "corpus" / name
    seeds = WORK / "seeds" / name
    crashes = WORK / "crashes"
    for folder in (corpus, crashes):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(seeds, ignore_errors=True)
    python = sys.executable
    script = str(ROOT / "fuzz" / "targets.py")
    subprocess.run([python, script, name, "--seeds", str(seeds)], check=True, stderr=subprocess.DEVNULL)
    before = set(crashes.iterdir())
    command = [python, script, name, f"-max_total_time={seconds}", f"-rss_limit_mb={rss_mb}",
               f"-timeout={timeout}", f"-artifact_prefix={crashes}/{name}-", "-print_final_stats=1",
               "-max_len=65536", str(corpus), str(seeds)]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                          timeout=seconds + 10 * timeout + 300, env={**os.environ, "PYTHONHASHSEED": "0"})
    took = time.monotonic() - started
    log = done.stderr + done.stdout
    (WORK / f"{name}.log").write_text(log)
    runs = _DONE.search(log)
    executed = re.search(r"stat::number_of_executed_units: (\d+)", log)
    cov = _COV.findall(log)
    new_crashes = sorted(set(crashes.iterdir()) - before)
    return {
        "target": name,
        "seconds": round(took),
        "executions": int(executed.group(1)) if executed else int(runs.group(1)) if runs else 0,
        "coverage": int(cov[-1][0]) if cov else 0,
        "corpus": int(cov[-1][2]) if cov else 0,
        "exit": done.returncode,
        "crashes": [str(p.relative_to(ROOT)) for p in new_crashes],
    }


def table(results: list[dict[str, object]], seconds: int, rss_mb: int, timeout: int) -> str:
    lines = [
        "# Fuzzing results (`make fuzz`)",
        "",
        f"Each target ran for {seconds} s (libFuzzer `-max_total_time`) with `-rss_limit_mb={rss_mb}` and "
        f"`-timeout={timeout}`, starting from its seeds and the corpus of earlier runs. A crash is any "
        "input that ends in something other than a result or a located `NetarithError` within "
        "`tests/fuzzkit.py`'s time bound, or that exceeds the memory or time limit.",
        "",
        "| target | seconds | executions | exec/s | coverage (edges) | corpus | crashes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        rate = int(r["executions"]) // max(1, int(r["seconds"]))  # type: ignore[call-overload]
        crashes = ", ".join(f"`{c}`" for c in r["crashes"]) or "none"  # type: ignore[attr-defined]
        lines.append(f"| {r['target']} | {r['seconds']} | {r['executions']:,} | {rate:,} | {r['coverage']:,} | "
                     f"{r['corpus']:,} | {crashes} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"some of: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument("--rss-mb", type=int, default=2048)
    parser.add_argument("--timeout", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; one of: {', '.join(TARGETS)}")
    results = []
    for name in args.targets or TARGETS:
        print(f"fuzz: {name} for {args.seconds} s ...", flush=True)
        result = run_target(name, args.seconds, args.rss_mb, args.timeout)
        print(f"fuzz: {name}: {result['executions']:,} executions in {result['seconds']} s, "
              f"coverage {result['coverage']}, crashes: {result['crashes'] or 'none'}"
              + (f" (exit {result['exit']}, see .fuzz/{name}.log)" if result["exit"] else ""), flush=True)
        results.append(result)
    text = table(results, args.seconds, args.rss_mb, args.timeout)
    if args.out:
        args.out.write_text(text)
    print(text)
    failed = [r for r in results if r["crashes"] or r["exit"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
