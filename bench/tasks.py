"""One measurement, run in a process of its own: ``python bench/tasks.py TASK ARG...``.

Each task prints one JSON object on stdout: its timings in seconds (every repeat, so the
runner can take min / median / max) and whatever it checked on the way (layer counts,
the totals each tool answered). The runner (``run.py``) reads the process's peak memory
from outside, with ``os.wait4``; a task imports only what it measures, so a netarith task
never has torch in memory.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

INPUT = (3, 224, 224)
Timed = Callable[[], Any]


def _clock(fn: Timed) -> tuple[float, Any]:
    wall, _cpu, value = _clocks(fn)
    return wall, value


def _clocks(fn: Timed) -> tuple[float, float, Any]:
    """Wall time and CPU time of ``fn()`` (after a collection, outside the timing), and its value."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def _repeat(fn: Timed, repeats: int) -> tuple[list[float], Any]:
    times, value = [], None
    for _ in range(repeats):
        elapsed, value = _clock(fn)
        times.append(elapsed)
    return times, value


# -- netarith alone ----------------------------------------------------------------------------

def zoo(name: str, repeats: str) -> dict[str, Any]:
    """Build the zoo graph (the zoo's cache bypassed) and analyse it, ``repeats`` times."""
    from netarith.analyze import analyze_graph
    from netarith.zoo import registry

    entry = registry.get(name)
    build_times, analyse_times = [], []
    report = None
    for _ in range(int(repeats)):
        build, graph = _clock(entry.builder)
        analyse, report = _clock(lambda g=graph: analyze_graph(g))
        build_times.append(build)
        analyse_times.append(analyse)
    assert report is not None
    return {
        "build": build_times,
        "analyse": analyse_times,
        "times": [b + a for b, a in zip(build_times, analyse_times)],
        "layers": len(report.layers),
        "params": report.totals.params,
        "macs": report.totals.macs,
    }


def chain_text(layers: int) -> str:
    """A chain of ``layers`` layers (the input included): conv, bn, relu, repeated."""
    pattern = ("conv 16 k3 p1", "bn", "relu")
    body = "\n".join(pattern[i % 3] for i in range(layers - 1))
    return f"input 16x32x32\n{body}\n"


def chain(layers: str, repeats: str) -> dict[str, Any]:
    """Parse, analyse and write the JSON report of a chain, each step timed; the CPU time of
    the three together too (the machine is shared: wall time counts the other users' turns).
    A short chain goes through the three steps first, untimed: what a process does once (the
    layer kinds' modules imported, the value classes' ``__init__`` compiled) is the start-up's
    cost, measured with the CLI's, not a cost per layer."""
    from netarith.analyze import analyze_graph
    from netarith.notation import parse
    from netarith.report.json import render

    render(analyze_graph(parse(chain_text(10))))
    n = int(layers)
    text = chain_text(n)
    steps: dict[str, list[float]] = {"parse": [], "analyse": [], "json": [], "times": [], "cpu": []}
    size = 0
    for _ in range(int(repeats)):
        t_parse, c_parse, graph = _clocks(lambda: parse(text))
        t_analyse, c_analyse, report = _clocks(lambda g=graph: analyze_graph(g))
        t_json, c_json, out = _clocks(lambda r=report: render(r))
        steps["cpu"].append(c_parse + c_analyse + c_json)
        size = len(out)
        for key, value in (("parse", t_parse), ("analyse", t_analyse), ("json", t_json),
                           ("times", t_parse + t_analyse + t_json)):
            steps[key].append(value)
        del graph, report, out
    return {**steps, "layers": n, "json_chars": size}


def imports() -> dict[str, Any]:
    """Which heavy packages ``import netarith`` and the CLI's start pull in (none, we hope)."""
    before = set(sys.modules)
    import netarith  # noqa: F401

    after_import = set(sys.modules) - before
    from netarith.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        main(["analyze", "alexnet-paper"])
    after_cli = set(sys.modules) - before
    heavy = ("torch", "numpy", "onnx", "torchvision", "starlette", "uvicorn", "yaml")

    def found(mods: set[str]) -> list[str]:
        return sorted(m for m in mods if m.split(".")[0] in heavy)

    return {
        "times": [],
        "import_modules": len(after_import),
        "import_heavy": found(after_import),
        "cli_modules": len(after_cli),
        "cli_heavy": found(after_cli),
        "netarith_modules": sorted(m for m in after_cli if m.startswith("netarith")),
    }


def audit(repeats: str) -> dict[str, Any]:
    """The audit of alexnet-paper, search included."""
    from netarith.audit import audit as run_audit

    times, report = _repeat(lambda: run_audit("alexnet-paper"), int(repeats))
    return {"times": times, "claims": len(report.results),
            "unexplained": len(report.unexplained)}


def sizes(repeats: str) -> dict[str, Any]:
    """``netarith sizes resnet50``: closed forms, smallest input, exact inputs."""
    from netarith.sizes import render
    from netarith.sizes import sizes as run_sizes
    from netarith.zoo import registry

    graph = registry.build("resnet50")
    times, text = _repeat(lambda: render(run_sizes(graph)), int(repeats))
    return {"times": times, "lines": text.count("\n")}


def onnx_file(path: str, repeats: str) -> dict[str, Any]:
    """Read an ONNX file (its weights skipped) and analyse it."""
    from netarith import analyze

    times, report = _repeat(lambda: analyze(path), int(repeats))
    return {"times": times, "layers": len(report.layers), "params": report.totals.params,
            "macs": report.totals.macs}


# -- the PyTorch side: the same torchvision module through every tool --------------------------

def _module(name: str) -> Any:
    import torchvision

    model = getattr(torchvision.models, name)(weights=None)
    return model.eval()


def _quiet() -> None:
    """The peers log and warn about what they skip; the benchmark prints JSON only."""
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)


def _tools(name: str, model: Any, only: str = "") -> dict[str, Timed]:
    """What each tool does to summarise ``model``, returning (params, MACs) or what it counts
    as such; all of them, or those named in ``only`` (comma-separated). netarith's rows are there
    when this netarith has them (the zoo, ``from_torch``)."""
    import torch

    import netarith

    tools: dict[str, Timed] = {}
    shape = "x".join(map(str, INPUT))

    try:
        from netarith.zoo import registry
    except ImportError:  # a netarith without a zoo (an importer branch measured on its own)
        registry = None
    if registry is not None and (not only or "netarith (zoo" in only):
        from netarith.analyze import analyze_graph

        # As the torchvision module is built once before the tools run, the zoo's graph is too;
        # building it is timed apart, in the second row.
        graph = registry.get(name).builder()

        def netarith_zoo() -> tuple[int, int]:
            report = analyze_graph(graph)
            return report.totals.params, report.totals.macs

        def netarith_zoo_built() -> tuple[int, int]:
            report = analyze_graph(registry.get(name).builder())
            return report.totals.params, report.totals.macs

        tools["netarith (zoo)"] = netarith_zoo
        tools["netarith (zoo, graph built each time)"] = netarith_zoo_built

    from_torch = getattr(netarith, "from_torch", None)
    if from_torch is not None:
        def netarith_torch() -> tuple[int, int]:
            from netarith.analyze import analyze_graph

            report = analyze_graph(from_torch(model, shape))
            return report.totals.params, report.totals.macs

        tools["netarith (from_torch)"] = netarith_torch

    def torchinfo_summary() -> tuple[int, int]:
        import torchinfo

        stats = torchinfo.summary(model, input_size=(1, *INPUT), verbose=0,
                                  col_names=("output_size", "num_params", "mult_adds"))
        return stats.total_params, stats.total_mult_adds

    def fvcore_flops() -> tuple[int, int]:
        from fvcore.nn import FlopCountAnalysis, parameter_count

        flops = FlopCountAnalysis(model, torch.zeros(1, *INPUT))
        flops.unsupported_ops_warnings(False)
        flops.uncalled_modules_warnings(False)
        return parameter_count(model)[""], flops.total()

    def ptflops_info() -> tuple[int, int]:
        from ptflops import get_model_complexity_info

        macs, params = get_model_complexity_info(model, INPUT, as_strings=False,
                                                 print_per_layer_stat=False, verbose=False)
        return int(params), int(macs)

    def thop_profile() -> tuple[int, int]:
        import thop

        macs, params = thop.profile(model, inputs=(torch.zeros(1, *INPUT),), verbose=False)
        return int(params), int(macs)

    tools["torchinfo.summary"] = torchinfo_summary
    tools["fvcore FlopCountAnalysis"] = fvcore_flops
    tools["ptflops"] = ptflops_info
    tools["thop.profile"] = thop_profile
    if only:
        tools = {k: v for k, v in tools.items() if k in only.split(",")}
    return tools


def side_by_side(name: str, repeats: str, only: str = "") -> dict[str, Any]:
    """Every tool (or those in ``only``, comma-separated) on the same module in one process,
    interleaved so that the machine's noise falls on all of them alike. The first call of each
    is kept apart (a warm-up)."""
    _quiet()
    import torch

    model = _module(name)
    tools = _tools(name, model, only)
    # What the set-up made (torch, torchvision, the module, the zoo's graph: about a million
    # objects) is moved out of the collector's reach. The collection before each timed call then
    # walks what the calls left, not the whole heap, which also flushed the processor's caches
    # and made the next call start cold: that cost a 2 ms call a fifth of its time, a 200 ms one
    # nothing measurable. Every tool is timed under the same rule.
    gc.freeze()
    first: dict[str, float] = {}
    runs: dict[str, list[float]] = {tool: [] for tool in tools}
    answers: dict[str, list[int]] = {}
    for round_ in range(int(repeats) + 1):
        for tool, fn in tools.items():
            with contextlib.redirect_stdout(io.StringIO()):
                elapsed, (params, macs) = _clock(fn)
            if round_ == 0:
                first[tool] = elapsed
                answers[tool] = [int(params), int(macs)]
            else:
                runs[tool].append(elapsed)
    return {"times": [], "first": first, "runs": runs, "answers": answers,
            "torch_threads": torch.get_num_threads()}


def memory(tool: str, name: str) -> dict[str, Any]:
    """One tool, once, in a fresh process, for its peak memory.
    ``baseline`` imports torch and builds the module, and stops there."""
    _quiet()
    if tool == "netarith-zoo":
        from netarith.analyze import analyze_graph
        from netarith.zoo import registry

        elapsed, report = _clock(lambda: analyze_graph(registry.get(name).builder()))
        return {"times": [elapsed], "params": report.totals.params}
    import torchvision

    if tool == "netarith-factory":
        # The function that builds the model: the importer builds it on the meta device,
        # so the weights are never allocated.
        import netarith
        from netarith.analyze import analyze_graph

        factory = getattr(torchvision.models, name)
        elapsed, report = _clock(lambda: analyze_graph(netarith.from_torch(factory, "3x224x224")))
        return {"times": [elapsed], "params": report.totals.params}
    model = _module(name)
    if tool == "baseline":
        return {"times": []}
    label = {"netarith-module": "netarith (from_torch)", "torchinfo": "torchinfo.summary",
             "fvcore": "fvcore FlopCountAnalysis", "ptflops": "ptflops", "thop": "thop.profile"}[tool]
    tools = _tools(name, model, label)
    with contextlib.redirect_stdout(io.StringIO()):
        elapsed, (params, _macs) = _clock(tools[label])
    return {"times": [elapsed], "params": int(params)}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "zoo": zoo,
    "chain": chain,
    "imports": imports,
    "audit": audit,
    "sizes": sizes,
    "onnx": onnx_file,
    "side-by-side": side_by_side,
    "memory": memory,
}


def main(argv: list[str]) -> int:
    from peak import peak_kb

    task, *args = argv
    result = TASKS[task](*args)
    result["peak_kb"] = peak_kb()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
