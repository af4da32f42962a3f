"""docs/benchmarks.md and the scaling plot, from the measurements ``run.py`` saved.

Ratios lead: the machine is shared, so absolute times move from run to run, while two
tools timed in the same process, in alternation, keep their ratio.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from netarith.draw.svgkit import Canvas

NETARITH = "netarith (zoo)"
BUILT = "netarith (zoo, graph built each time)"
TORCH = "netarith (from_torch)"
PEERS = ("torchinfo.summary", "fvcore FlopCountAnalysis", "ptflops", "thop.profile")
TOOLS = (NETARITH, BUILT, TORCH, *PEERS)
MEMORY_LABELS = {
    "baseline": "torch + torchvision + the module, no tool",
    "netarith-zoo": NETARITH,
    "netarith-module": TORCH,
    "netarith-factory": "netarith (from_torch, factory)",
    "torchinfo": "torchinfo.summary",
    "fvcore": "fvcore FlopCountAnalysis",
    "ptflops": "ptflops",
    "thop": "thop.profile",
}
NOT_MEASURED = "not measured"

# The targets of issue 8.
ZOO_VS_TORCHINFO = 100
TORCH_VS_TORCHINFO = 5
GROUPS = ("imports", "cold", "zoo", "side", "memory", "torch", "chain", "before", "audit", "sizes", "onnx")
US_PER_LAYER = 20
LINEAR = 12
COLD_START = 5
AUDIT_SECONDS = 1.0


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_time(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def spread(times: Sequence[float]) -> str:
    """median (min to max)"""
    return f"{fmt_time(med(times))} ({fmt_time(min(times))} to {fmt_time(max(times))})"


def us_per_layer(seconds: float, layers: int) -> float:
    return seconds * 1e6 / layers


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(head) - 1)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


# -- the targets -----------------------------------------------------------------------------

Verdict = bool | str | None  # holds / misses / a qualified verdict / not measured


def _warm_and_first(result: dict[str, Any], ours: str, goal: float) -> tuple[str, Verdict]:
    """Both ratios to torchinfo.summary in one process: warm (the median of the calls after the
    first) and the first call, which pays torch's first forward pass (kernel set-up)."""
    runs, first = result["runs"], result["first"]
    warm = med(runs["torchinfo.summary"]) / med(runs[ours])
    cold = first["torchinfo.summary"] / first[ours]
    text = (f"warm: {fmt_ratio(warm)} ({fmt_time(med(runs[ours]))} against "
            f"{fmt_time(med(runs['torchinfo.summary']))}); first call: {fmt_ratio(cold)} "
            f"({fmt_time(first[ours])} against {fmt_time(first['torchinfo.summary'])})")
    verdict: Verdict = True if warm >= goal else "first call only" if cold >= goal else False
    return text, verdict


def targets(data: dict[str, Any]) -> list[tuple[str, str, Verdict, str]]:
    """(target, what was measured, verdict, the same measured on the earlier tree if it was)."""
    out: list[tuple[str, str, Verdict, str]] = []
    other = (data.get("torch") or {}).get("models", {}).get("resnet152")
    side = data.get("side", {}).get("resnet152")
    if side:
        text, verdict = _warm_and_first(side, NETARITH, ZOO_VS_TORCHINFO)
        before = _warm_and_first(other, NETARITH, ZOO_VS_TORCHINFO)[0] if other and NETARITH in other["runs"] else ""
        out.append((f"zoo analysis of resnet152 >= {ZOO_VS_TORCHINFO}x faster than torchinfo.summary "
                    "(one process)", text, verdict, before))
    out.append(_torch_target(data))
    chain = data.get("chain", {})
    if "100000" in chain and "10000" in chain:
        big, mid = chain["100000"], chain["10000"]
        per_layer = us_per_layer(med(big["times"]), big["layers"])
        growth = med(big["times"]) / med(mid["times"])
        cpu = us_per_layer(med(big["cpu"]), big["layers"])
        old = (data.get("before") or {}).get("chain", {})
        old_per_layer = old_growth = ""
        if "100000" in old and "10000" in old:
            old_per_layer = f"{us_per_layer(med(old['100000']['times']), old['100000']['layers']):.1f} us per layer"
            old_growth = f"{med(old['100000']['times']) / med(old['10000']['times']):.1f}x"
        out.append((f"<= {US_PER_LAYER} us per layer end to end at 100,000 layers",
                    f"{per_layer:.1f} us per layer ({cpu:.1f} us of CPU time)", per_layer <= US_PER_LAYER,
                    old_per_layer))
        out.append((f"linear: 100k / 10k time <= {LINEAR}x", f"{growth:.1f}x", growth <= LINEAR, old_growth))
    cold = data.get("cold")
    if cold:
        base = med(cold["python -c pass"]["times"])
        ratio = med(cold["netarith analyze alexnet-paper"]["times"]) / base
        earlier = next((r for cmd, r in cold.items() if cmd.startswith("netarith analyze alexnet-paper, before")),
                       None)
        before = (f"{med(earlier['times']) / base:.1f}x ({fmt_time(med(earlier['times']))})" if earlier else "")
        out.append((f"`netarith analyze alexnet-paper` cold start within {COLD_START}x a bare Python start",
                    f"{ratio:.1f}x ({fmt_time(med(cold['netarith analyze alexnet-paper']['times']))} against "
                    f"{fmt_time(base)})", ratio <= COLD_START, before))
    imports = data.get("imports")
    if imports:
        heavy = imports["import_heavy"] + imports["cli_heavy"]
        out.append(("`import netarith` (and the CLI) import no torch, numpy or onnx",
                    "none imported" if not heavy else ", ".join(sorted(set(heavy))), not heavy, ""))
    audit = data.get("audit")
    if audit:
        api = med(audit["api"]["times"])
        cli = med(audit["cli"]["netarith audit alexnet-paper"]["times"])
        out.append((f"the alexnet-paper audit, search included, under {AUDIT_SECONDS:g} s",
                    f"{fmt_time(api)} in process; {fmt_time(cli)} as a command, start-up included",
                    api < AUDIT_SECONDS, ""))
    return out


def _torch_rows(data: dict[str, Any], model: str) -> tuple[dict[str, Any] | None, dict[str, Any], str]:
    """from_torch's timings (with torchinfo's, same process), its memory, and where they come
    from: this tree's side-by-side run, else the run of another tree (--torch-src)."""
    side = data.get("side", {}).get(model)
    memory = data.get("memory", {}).get(model, {})
    if side and TORCH in side["runs"]:
        return side, memory, "this tree"
    torch = data.get("torch") or {}
    other = torch.get("models", {}).get(model)
    if other and TORCH in other["runs"]:
        return other, other.get("memory", {}), f"the tree {torch['src']} at {torch['commit']}"
    return None, {}, ""


def _torch_target(data: dict[str, Any]) -> tuple[str, str, Verdict, str]:
    name = (f"torch import + analysis of resnet152 >= {TORCH_VS_TORCHINFO}x faster than torchinfo.summary, "
            "with lower peak memory")
    rows, memory, where = _torch_rows(data, "resnet152")
    if rows is None:
        return name, f"{NOT_MEASURED}: netarith.from_torch is not on this branch", None, ""
    other = (data.get("torch") or {}).get("models", {}).get("resnet152")
    before = ""
    if where == "this tree" and other and TORCH in other["runs"]:
        before = _warm_and_first(other, TORCH, TORCH_VS_TORCHINFO)[0]
    text, verdict = _warm_and_first(rows, TORCH, TORCH_VS_TORCHINFO)
    ours = memory.get("netarith-module", {}).get("peak_kb")
    theirs = data.get("memory", {}).get("resnet152", {}).get("torchinfo", {}).get("peak_kb")
    lower = ours is not None and theirs is not None and ours < theirs
    mem = f"; peak {fmt_mb(ours)} against {fmt_mb(theirs)}" if ours and theirs else "; memory not measured"
    source = "" if where == "this tree" else f" (from_torch of {where})"
    return name, f"{text}{mem}{source}", verdict if lower else False, before


# -- the sections ----------------------------------------------------------------------------

def _machine(data: dict[str, Any]) -> list[str]:
    m = data["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    load = " / ".join(f"{x:.1f}" for x in m.get("load_before", ())) or "?"
    load_after = " / ".join(f"{x:.1f}" for x in m.get("load_after", ())) or "?"
    return [
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['system']}; "
        f"load average (1 / 5 / 15 min) {load} before the run, {load_after} after. The machine is shared.",
        f"- **Python** {m['python']} ({m['implementation']}); {versions}.",
        f"- **netarith** commit {m['commit']}{' (with uncommitted changes in src/)' if m['dirty'] else ''}; "
        f"run on {m['date']}{' (--quick: fewer repeats and models)' if data.get('quick') else ''}.",
        "",
    ]


def _side(data: dict[str, Any]) -> list[str]:
    side = data.get("side")
    if not side:
        return []
    zoo = data.get("zoo", {})
    lines = [
        "## Side by side: the same model, the same process",
        "",
        "Each tool summarises the same torchvision module (random weights, eval mode, input "
        "1x3x224x224) in one process, the tools taking turns. The module is built once, before; so is "
        "the zoo's graph for netarith (zoo), which analyses it; netarith (zoo, graph built each time) "
        "also builds the graph in every run; netarith (from_torch) reads the torchvision module "
        "itself. Median time of the runs after the first, and how many times slower than "
        "netarith (zoo) each tool is:",
        "",
    ]
    head = ["model (layers)", *TOOLS]
    rows = []
    for model, result in side.items():
        runs = result["runs"]
        base = med(runs[NETARITH])
        layers = zoo.get(model, {}).get("layers")
        cells = [f"{model} ({layers})" if layers else model]
        for tool in TOOLS:
            if tool not in runs:
                cells.append(NOT_MEASURED)
            elif tool == NETARITH:
                cells.append(f"**{fmt_time(base)}**")
            else:
                cells.append(f"{fmt_time(med(runs[tool]))} ({fmt_ratio(med(runs[tool]) / base)})")
        rows.append(cells)
    lines += _table(head, rows)
    lines += ["Every run, median (min to max), and the first call (a warm-up, not in the median):", "",
              "<details><summary>all runs</summary>", ""]
    rows = []
    for model, result in side.items():
        for tool in TOOLS:
            if tool in result["runs"]:
                rows.append([model, tool, spread(result["runs"][tool]), fmt_time(result["first"][tool])])
    lines += _table(["model", "tool", "median (min to max)", "first call"], rows)
    lines += ["</details>", ""]
    lines += ["What each tool answered (parameters; MACs, or what the tool counts as such):", ""]
    rows = []
    for model, result in side.items():
        cells = [model]
        for tool in TOOLS:
            answer = result["answers"].get(tool)
            cells.append(f"{answer[0]:,}; {answer[1]:,}" if answer else NOT_MEASURED)
        rows.append(cells)
    lines += _table(["model", *TOOLS], rows)
    return lines


def _earlier(data: dict[str, Any]) -> str:
    """The commit of the earlier tree measured in this run (``--torch-src``, ``--before-src``), if any."""
    for group in ("torch", "before"):
        commit = (data.get(group) or {}).get("commit")
        if commit:
            return str(commit)
    return ""


def _torch(data: dict[str, Any]) -> list[str]:
    torch = data.get("torch")
    if not torch or not torch.get("models"):
        return []
    memory = data.get("memory", {})
    lines = [
        f"## The same on another tree: {torch['commit']}",
        "",
        f"For comparison, the zoo analysis and `netarith.from_torch` of the tree `{torch['src']}` (commit "
        f"{torch['commit']}), in processes of their own: the zoo's graph analysed, `from_torch(module, "
        "\"3x224x224\")` then `analyze_graph`, and torchinfo.summary in the same process, taking turns. "
        "Peak memory: from_torch given the built module, and given the factory (`torchvision.models.NAME`, "
        "built on the meta device); torchinfo's from the table above.",
        "",
    ]
    rows = []
    for model, result in torch["models"].items():
        runs = result["runs"]
        ours, theirs = med(runs[TORCH]), med(runs["torchinfo.summary"])
        mem = result.get("memory", {})
        info = memory.get(model, {}).get("torchinfo", {}).get("peak_kb")

        def peak(tool: str, m: dict[str, Any] = mem) -> str:
            return fmt_mb(m[tool]["peak_kb"]) if "peak_kb" in m.get(tool, {}) else NOT_MEASURED

        zoo = (f"{spread(runs[NETARITH])} (**{fmt_ratio(theirs / med(runs[NETARITH]))}**)"
               if NETARITH in runs else NOT_MEASURED)
        answer = result["answers"]
        rows.append([model, zoo, spread(runs[TORCH]), fmt_time(result["first"][TORCH]),
                     spread(runs["torchinfo.summary"]),
                     f"**{fmt_ratio(theirs / ours)}**", peak("netarith-module"), peak("netarith-factory"),
                     fmt_mb(info) if info else NOT_MEASURED,
                     f"{answer[TORCH][0]:,}; {answer[TORCH][1]:,}",
                     f"{answer['torchinfo.summary'][0]:,}; {answer['torchinfo.summary'][1]:,}"])
    return lines + _table(["model", "zoo analysis (torchinfo / zoo)", "from_torch + analysis", "first call",
                           "torchinfo.summary", "torchinfo / from_torch", "peak, module", "peak, factory",
                           "peak, torchinfo", "from_torch: params; MACs", "torchinfo: params; mult-adds"], rows)


def _memory(data: dict[str, Any]) -> list[str]:
    memory = data.get("memory")
    if not memory:
        return []
    lines = [
        "## Peak memory, whole processes",
        "",
        "Each tool once, in a fresh process; the peak resident set of the whole process "
        "(`VmHWM`), interpreter and imports included. The baseline imports torch and "
        "torchvision and builds the module, as every torch tool's process does first; netarith (zoo) "
        "imports no torch at all; netarith (from_torch, factory) is given `torchvision.models.NAME` "
        "and builds the model on PyTorch's meta device, so its weights are never allocated.",
        "",
    ]
    tools = list(MEMORY_LABELS)
    rows, walls = [], []
    for model, result in memory.items():
        cells, times = [model], [model]
        ours = result.get("netarith-zoo", {}).get("wall")
        for tool in tools:
            entry = result.get(tool, {})
            cells.append(fmt_mb(entry["peak_kb"]) if "peak_kb" in entry else NOT_MEASURED)
            if "wall" not in entry:
                times.append(NOT_MEASURED)
            elif tool in ("netarith-zoo", "baseline") or not ours:
                times.append(fmt_time(entry["wall"]))
            else:
                times.append(f"{fmt_time(entry['wall'])} ({fmt_ratio(entry['wall'] / ours)})")
        rows.append(cells)
        walls.append(times)
    head = ["model", *(MEMORY_LABELS[t] for t in tools)]
    lines += _table(head, rows)
    lines += [
        "The same processes timed from start to exit (one run each, so noisier than the tables above): "
        "what one answer costs from a command line, imports and the first call included, and how many "
        "times the netarith (zoo) process:",
        "",
    ]
    return lines + _table(head, walls)


def _chain(data: dict[str, Any], svg: Path | None) -> list[str]:
    chain = data.get("chain")
    if not chain:
        return []
    lines = [
        "## Scaling: a chain of layers, end to end",
        "",
        "A network of N layers (conv 16 k3 p1, bn, relu, repeated after a 16x32x32 input) as text: "
        "parsed, analysed, and written as the JSON report. Each size runs in several processes, the "
        "sizes taking turns, after an untimed short chain (what a process does once belongs to the "
        "start-up). Microseconds per layer, median of the runs (min to max of the total); the CPU "
        "time the process got for the three steps is shown too, as the wall time also counts the "
        "turns of the machine's other users:",
        "",
    ]
    before = (data.get("before") or {}).get("chain", {})
    rows = []
    for key, result in chain.items():
        layers = result["layers"]

        def per(key: str, r: dict[str, Any] = result, n_layers: int = layers) -> str:
            return f"{us_per_layer(med(r[key]), n_layers):.1f}"

        total = result["times"]
        rows.append([f"{layers:,}", per("parse"), per("analyse"), per("json"),
                     f"**{per('times')}** ({us_per_layer(min(total), layers):.1f} to "
                     f"{us_per_layer(max(total), layers):.1f})",
                     per("cpu"), fmt_time(med(total)), f"{result['json_chars'] / 1e6:.1f} MB",
                     fmt_mb(result["peak_kb"])])
        if before:
            old = before.get(key)
            rows[-1].append(f"{us_per_layer(med(old['times']), layers):.1f} "
                            f"({us_per_layer(med(old['parse']), layers):.1f} + "
                            f"{us_per_layer(med(old['analyse']), layers):.1f} + "
                            f"{us_per_layer(med(old['json']), layers):.1f})" if old else NOT_MEASURED)
    head = ["layers", "parse", "analyse", "JSON", "total us/layer", "CPU us/layer", "total time", "JSON size",
            "peak memory"]
    if before:
        head.append(f"before: total (parse + analyse + JSON), commit {data['before']['commit']}")
    lines += _table(head, rows)
    if "100000" in chain and "10000" in chain:
        growth = med(chain["100000"]["times"]) / med(chain["10000"]["times"])
        lines += [f"100,000 layers take {growth:.1f}x the time of 10,000 (linear would be 10x). What grows "
                  "faster than the layers is CPython's: with its default thresholds (700, 10, 10) its "
                  "collector walks every object only after some 80,000 new ones, so the steps of a "
                  "10,000-layer run never pay for a full collection and those of a 100,000-layer run pay "
                  "for one or two (a tenth to a fifth of their time, timed with `gc.callbacks`), and a working set "
                  "of 150 MB no longer fits the processor's caches. netarith leaves the collector alone: "
                  "pausing it would change the whole process (`netarith serve` runs analyses on threads).",
                  ""]
    if svg is not None:
        lines += [f"![microseconds per layer against the number of layers]({svg})", ""]
    return lines


def _cold(data: dict[str, Any]) -> list[str]:
    cold = data.get("cold")
    if not cold:
        return []
    base = med(cold["python -c pass"]["times"])
    lines = [
        "## Start-up",
        "",
        "Fresh processes, started one after another in turn, bytecode caches written beforehand "
        "(as after `pip install`). Wall time from start to exit:",
        "",
    ]
    rows = [[f"`{cmd}`", spread(r["times"]), fmt_ratio(med(r["times"]) / base), fmt_mb(r["peak_kb"])]
            for cmd, r in cold.items()]
    lines += _table(["command", "median (min to max)", "vs python -c pass", "peak memory"], rows)
    imports = data.get("imports")
    if imports:
        heavy = sorted(set(imports["import_heavy"] + imports["cli_heavy"]))
        lines += [
            f"`import netarith` loads {imports['import_modules']} modules, the CLI's `analyze alexnet-paper` "
            f"{imports['cli_modules']} in all ({len(imports['netarith_modules'])} of them netarith's); "
            f"torch, numpy, onnx, torchvision, yaml, starlette: {', '.join(heavy) if heavy else 'none'}.",
            "",
        ]
    return lines


def _tasks(data: dict[str, Any]) -> list[str]:
    rows = []
    audit, sizes, onnx = data.get("audit"), data.get("sizes"), data.get("onnx")
    if audit:
        cli = audit["cli"]["netarith audit alexnet-paper"]
        rows.append([f"audit of alexnet-paper ({audit['api']['claims']} figures, search included)",
                     spread(audit["api"]["times"]), spread(cli["times"]), fmt_mb(audit["api"]["peak_kb"])])
    if sizes:
        cli = sizes["cli"]["netarith sizes resnet50"]
        rows.append(["`sizes` of resnet50 (closed forms, smallest and exact inputs)",
                     spread(sizes["api"]["times"]), spread(cli["times"]), fmt_mb(sizes["api"]["peak_kb"])])
    if onnx:
        cli = onnx["cli"]["netarith analyze bench500.onnx"]
        rows.append([f"a 500-node ONNX file ({onnx['file_bytes'] / 1e6:.0f} MB, weights skipped): read and analyse",
                     spread(onnx["api"]["times"]), spread(cli["times"]), fmt_mb(onnx["api"]["peak_kb"])])
    if not rows:
        return []
    return [
        "## Audit, sizes, ONNX",
        "",
        "In process: the API call, repeated in one process. As a command: the CLI in a fresh process, "
        "start-up included.",
        "",
        *_table(["what", "in process, median (min to max)", "as a command", "peak memory"], rows),
    ]


def _history(data: dict[str, Any]) -> str:
    """The commands that measured this page, the complete run first."""
    runs = data.get("history") or [{"options": data.get("options", ""), "groups": list(GROUPS), "date": ""}]
    parts = []
    for run in runs:
        options = f' BENCH_ARGS="{run["options"]}"' if run["options"] else ""
        parts.append(f"`make bench{options}` ({run['date']})")
    return "; then ".join(parts)


def markdown(data: dict[str, Any], svg: Path | None) -> str:
    lines = [
        "# Benchmarks",
        "",
        "netarith computes a network's arithmetic without running it; the tools people use instead "
        "(torchinfo, fvcore, ptflops, thop) run a forward pass of the real model. This page puts them "
        "side by side, measured in one run on one machine. Regenerate it with `make bench` (it creates "
        "`.venv-bench` with the pinned versions of requirements/bench.txt, then runs bench/run.py); every "
        "measurement is in [benchmarks.json](benchmarks.json).",
        "",
        "The machine is shared and noisy, so ratios between tools timed in the same process lead; "
        "absolute times are for scale.",
        "",
        f"This page came from {_history(data)}.",
        "",
        "## Targets",
        "",
        "The targets of issue 8. *Warm* is the median of the calls after the first in one process; the "
        "*first call* is the one a script that asks once pays (for torch, its first forward pass).",
        "",
    ]
    verdicts = {True: "holds", False: "**misses**", None: NOT_MEASURED}
    found = targets(data)
    earlier = _earlier(data)
    rows = [[name, measured, verdicts[holds] if not isinstance(holds, str) else f"*{holds}*",
             *([before or ""] if earlier else [])]
            for name, measured, holds, before in found]
    lines += _table(["target", "measured", "", *([f"before ({earlier}), same run"] if earlier else [])], rows,
                    "llcl" if earlier else "llc")
    lines += _machine(data)
    lines += _side(data)
    lines += _memory(data)
    lines += _torch(data)
    lines += _chain(data, svg)
    lines += _cold(data)
    lines += _tasks(data)
    lines += [
        "## How it is measured",
        "",
        "- Every group of measurements runs in processes of its own (`bench/tasks.py`); the peak memory "
        "of a process is its own high-water mark, `VmHWM` in /proc/self/status, read as it ends "
        "(`bench/peak.py`; a parent's `ru_maxrss` would count the parent's memory copied at the fork).",
        "- Times are `time.perf_counter` around the call, after `gc.collect()`; min, median and max over "
        "the repeats. The side-by-side runs alternate the tools, so a busy moment of the machine falls on "
        "all of them; each tool's first call is a warm-up and is shown apart. There, what the set-up made "
        "(torch, torchvision, the module, the zoo's graph) is first moved out of the collector's reach "
        "(`gc.freeze()`), so that the collection before each call walks what the calls left rather than "
        "a million objects, which flushed the processor's caches and cost a 2 ms call a fifth of its "
        "time (a 200 ms one, nothing measurable); every tool is timed under the same rule.",
        "- The peers run as a user would call them: `torchinfo.summary(model, input_size=(1, 3, 224, 224), "
        "col_names=(\"output_size\", \"num_params\", \"mult_adds\"), verbose=0)`, "
        "`FlopCountAnalysis(model, x).total()` with `parameter_count`, "
        "`get_model_complexity_info(model, (3, 224, 224), as_strings=False, print_per_layer_stat=False)` "
        "and `thop.profile(model, inputs=(x,))`, with torch's default threads.",
        "- `make profile` shows where netarith's time goes (pyinstrument) in the 100,000-layer chain, "
        "the resnet152 analysis and the audit.",
        "",
    ]
    return "\n".join(lines)


# -- the scaling plot ---------------------------------------------------------------------------

_SERIES = (("times", "total", "#1f4e79", 2.5), ("json", "JSON", "#c55a11", 1.5),
           ("parse", "parse", "#548235", 1.5), ("analyse", "analyse", "#7030a0", 1.5))


def scaling_svg(data: dict[str, Any]) -> str:
    """Microseconds per layer against layers (log scale), one line per step, the target dashed."""
    import math

    chain = data.get("chain", {})
    points = sorted((r["layers"], r) for r in chain.values())
    before = (data.get("before") or {}).get("chain", {})
    before_points = sorted((r["layers"], r) for r in before.values())
    canvas = Canvas()
    left, top, width, height = 70.0, 40.0, 460.0, 260.0
    values = [us_per_layer(med(r[key]), n) for n, r in points for key, *_ in _SERIES]
    values += [us_per_layer(med(r["times"]), n) for n, r in before_points]
    y_max = max([US_PER_LAYER * 1.25, *values]) * 1.1
    y_step = 10 ** math.floor(math.log10(y_max / 2))
    if y_max / y_step > 8:
        y_step *= 2.5 if y_max / y_step <= 20 else 5
    x_lo, x_hi = 2.8, 5.2  # log10 of the layer counts shown

    def x_at(n: float) -> float:
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo) * width

    def y_at(v: float) -> float:
        return top + height - v / y_max * height

    canvas.text(left + width / 2, 20, "netarith end to end (parse, analyse, JSON): microseconds per layer",
                size=13, font_weight="bold")
    canvas.rect(left, top, width, height, fill="none", stroke="#999999")
    tick = 0.0
    while tick <= y_max:
        y = y_at(tick)
        canvas.line(left, y, left + width, y, stroke="#e6e6e6")
        canvas.text(left - 6, y + 4, f"{tick:g}", size=10, anchor="end")
        tick += y_step
    for n in (1_000, 10_000, 100_000):
        x = x_at(n)
        canvas.line(x, top + height, x, top + height + 5, stroke="#999999")
        canvas.text(x, top + height + 18, f"{n:,}", size=10)
    canvas.text(left + width / 2, top + height + 36, "layers in the chain (log scale)", size=11)
    canvas.text(18, top + height / 2, "us per layer", size=11, transform=f"rotate(-90 18 {top + height / 2:.0f})")
    target = y_at(US_PER_LAYER)
    canvas.line(left, target, left + width, target, stroke="#c00000", stroke_dasharray="6 4")
    canvas.text(left + width - 4, target - 5, f"target {US_PER_LAYER} us", size=10, anchor="end", fill="#c00000")
    for key, _label, colour, stroke in _SERIES:
        if not points:
            break
        xy = [(x_at(n), y_at(us_per_layer(med(r[key]), n))) for n, r in points]
        canvas.path("M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in xy), fill="none", stroke=colour,
                    stroke_width=stroke)
        for x, y in xy:
            canvas.rect(x - 3, y - 3, 6, 6, fill=colour)
    legend = [(label, colour) for _, label, colour, _ in _SERIES]
    if before_points:
        xy = [(x_at(n), y_at(us_per_layer(med(r["times"]), n))) for n, r in before_points]
        canvas.path("M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in xy), fill="none", stroke="#999999",
                    stroke_width=2, stroke_dasharray="3 3")
        for x, y in xy:
            canvas.rect(x - 3, y - 3, 6, 6, fill="#999999")
        legend.append((f"total before ({data['before']['commit']})", "#999999"))
    for i, (label, colour) in enumerate(legend):
        y = top + 14 + i * 16
        canvas.rect(left + width + 16, y - 8, 12, 8, fill=colour)
        canvas.text(left + width + 34, y, label, size=11, anchor="start")
    return canvas.svg(title="netarith: microseconds per layer, end to end, against the number of layers")
