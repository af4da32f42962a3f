"""``make profile``: where netarith's time goes, with pyinstrument (requirements/bench.txt).

    python bench/hotspots.py                 # the chain, resnet152, the audit, import netarith
    python bench/hotspots.py chain 100000    # one of them
    python bench/hotspots.py audit --html out.html
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))


def _chain(layers: int) -> Callable[[], object]:
    from tasks import chain_text

    from netarith.analyze import analyze_graph
    from netarith.notation import parse
    from netarith.report.json import render

    text = chain_text(layers)
    return lambda: render(analyze_graph(parse(text)))


def _zoo(name: str) -> Callable[[], object]:
    from netarith.analyze import analyze_graph
    from netarith.zoo import registry

    entry = registry.get(name)
    return lambda: [analyze_graph(entry.builder()) for _ in range(20)]


def _audit() -> Callable[[], object]:
    from netarith.audit import audit

    return lambda: audit("alexnet-paper")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=("chain", "zoo", "audit", "import"))
    parser.add_argument("arg", nargs="?", help="layers of the chain (100000), or the zoo model (resnet152)")
    parser.add_argument("--html", help="write pyinstrument's HTML page here instead of text")
    args = parser.parse_args()
    if args.what is None:
        for what in ("chain", "zoo", "audit", "import"):
            subprocess.run([sys.executable, __file__, what], check=True)
        return 0
    if args.what == "import":
        # Import time has its own tool: python -X importtime, sorted by cumulative time.
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import netarith.cli"],
                             capture_output=True, text=True, check=True).stderr
        rows = [line.split("|") for line in out.splitlines()[1:]]
        rows.sort(key=lambda r: -int(r[1]))
        print("cumulative us | self us | module")
        for self_us, cumulative, module in rows[:30]:
            print(f"{cumulative.strip():>13} | {self_us.split(':')[1].strip():>7} | {module.rstrip()}")
        return 0
    from pyinstrument import Profiler

    if args.what == "chain":
        fn = _chain(int(args.arg or 100_000))
    elif args.what == "zoo":
        fn = _zoo(args.arg or "resnet152")
    else:
        fn = _audit()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    fn()
    profiler.stop()
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    else:
        print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
