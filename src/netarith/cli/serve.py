"""``netarith serve``: the local page and its JSON API (needs ``pip install 'netarith[web]'``)."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
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
    p.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                   help="computation time per request (default 10; longer answers 503)")
    p.add_argument("--client-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time a client has to send its request headers, and again its body (default 10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..web.app import create_app, require
    from ..web.server import serve

    require("uvicorn", "netarith serve")
    for flag, value in (("--time-limit", args.time_limit), ("--client-timeout", args.client_timeout)):
        if not value > 0:
            raise SpecError(f"{flag} must be a positive number of seconds: {value:g}")

    if args.host not in LOOPBACK:
        print(f"netarith: warning: binding {args.host}: other machines can reach this server",
              file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"netarith: serving on http://{shown}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    app = create_app(allowed_hosts=(args.host,), time_limit=args.time_limit, body_timeout=args.client_timeout)
    serve(app, args.host, args.port, client_timeout=args.client_timeout)
    return 0
