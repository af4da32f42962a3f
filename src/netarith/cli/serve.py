"""``netarith serve``: the local page and its JSON API (needs ``pip install 'netarith[web]'``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "serve", help="a local web page that computes as you type",
        description="Serve a local page: a notation editor, the zoo, the live table, the diagram, "
        "derivations and downloads, with its JSON API under /api. Binds 127.0.0.1 unless told "
        "otherwise.",
    )
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: only this machine can connect)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..web.app import create_app, require

    require("uvicorn", "netarith serve")
    import uvicorn

    if args.host not in LOOPBACK:
        print(f"netarith: warning: binding {args.host}: other machines can reach this server",
              file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"netarith: serving on http://{shown}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    uvicorn.run(create_app(allowed_hosts=(args.host,)), host=args.host, port=args.port, log_level="warning")
    return 0
