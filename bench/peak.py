"""Run a Python command and print its peak resident memory (VmHWM) as JSON at the end.

``python bench/peak.py -c CODE`` or ``python bench/peak.py SCRIPT ARG...`` (a console
script such as .venv-bench/bin/netarith). The peak is the process's own high-water mark:
``ru_maxrss`` seen by a parent would also count the parent's memory, copied at the fork.
"""

from __future__ import annotations

import contextlib
import io
import json
import runpy
import sys


def peak_kb() -> int:
    """This process's peak resident set, in kB, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    args = sys.argv[1:]
    code = 0
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            if args[0] == "-c":
                sys.argv = ["-c", *args[2:]]
                exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
            else:
                sys.argv = args
                runpy.run_path(args[0], run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    print(json.dumps({"peak_kb": peak_kb(), "exit": code}))


if __name__ == "__main__":
    main()
