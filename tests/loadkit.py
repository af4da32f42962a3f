"""Load on ``netarith serve`` from another process, over loopback (issue 9).

:func:`start_server` runs ``python -m netarith serve`` on a free port of 127.0.0.1;
:func:`run_load` sends it a bounded mix of requests from concurrent clients for a bounded time,
each request's answer checked against the status the web issue promises for it (200 for a good
network, 422 for bad notation, 400 for a body that is not JSON, 415 for another media type,
413 over 1 MB or over 10,000 layers, 404 for an unknown model); :func:`slow_clients` opens
connections that send nothing, trickle their headers or their body a byte at a time, and
records when the server drops them. The client is a few lines of HTTP/1.1 over asyncio streams,
so that it can be as slow as it likes and needs nothing installed.

Every loop here is bounded in count and in time, and only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
HOST = "127.0.0.1"  # the only address this module talks to

ALEXNET = (ROOT / "examples" / "alexnet-paper.net").read_text()
SMALL = "input 3x32x32\nc1: conv 8 k3\nrelu\npool: maxpool 2\nfc: linear 10"
RESIDUAL = (ROOT / "examples" / "residual-block.net").read_text()
BAD = ["input 3x32x32\nconv 8 k3\n  maxpol 2", "3x2x2 | conv3: conv 8 k3", "input 3x8x8\na: conv 4 k1 <- inptu",
       "3x8x8 | conv 8 k" + "9" * 5000, "3x8x8 | conv 8 k3 s0", "<img src=x onerror=alert(1)>"]


@dataclass(frozen=True)
class Kind:
    """One kind of request and the status it must get."""

    name: str
    method: str
    path: str
    body: bytes | None
    expect: int
    content_type: str = "application/json"
    declared_length: int | None = None  # send this Content-Length and no body (a client about to send 2 MB)


def _post(name: str, path: str, payload: Any, expect: int) -> Kind:
    return Kind(name, "POST", path, json.dumps(payload).encode(), expect)


def request_mix() -> list[tuple[Kind, int]]:
    """(request kind, weight): valid, invalid and oversize requests."""
    deep = "input 3x8x8\n" + "relu\n" * 10_001
    return [
        (_post("analyze alexnet", "/api/analyze", {"source": ALEXNET}, 200), 10),
        (_post("analyze small", "/api/analyze", {"source": SMALL, "convention": "caffe"}, 200), 8),
        (_post("draw residual", "/api/draw", {"source": RESIDUAL, "style": "graph"}, 200), 4),
        (_post("chart alexnet", "/api/chart", {"source": ALEXNET, "log": True}, 200), 3),
        (_post("export csv", "/api/export", {"source": ALEXNET, "format": "csv"}, 200), 3),
        (_post("explain conv1", "/api/explain", {"source": ALEXNET, "layer": "conv1"}, 200), 3),
        (_post("sizes small", "/api/sizes", {"source": SMALL}, 200), 2),
        (_post("zoo model", "/api/analyze", {"model": "alexnet"}, 200), 3),
        (Kind("zoo list", "GET", "/api/zoo", None, 200), 2),
        (Kind("page", "GET", "/", None, 200), 2),
        *[(_post(f"bad notation {i}", "/api/analyze", {"source": text}, 422), 2) for i, text in enumerate(BAD)],
        (_post("unknown model", "/api/analyze", {"model": "alexnett"}, 404), 2),
        (Kind("not json", "POST", "/api/analyze", b"{source: 3x8x8", 400), 5),
        (Kind("not an object", "POST", "/api/analyze", b'["input 3x8x8"]', 400), 2),
        (Kind("text/plain", "POST", "/api/analyze", b'{"source": "3x8x8"}', 415, "text/plain"), 3),
        (Kind("over 1 MB", "POST", "/api/analyze", None, 413, declared_length=2_000_000), 5),
        (_post("over 10,000 layers", "/api/analyze", {"source": deep}, 413), 4),
        (_post("a file path", "/api/analyze", {"source": "/etc/passwd"}, 400), 2),
    ]


# ------------------------------------------------------------------------ a minimal HTTP/1.1 client


async def _send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: Kind,
                port: int) -> tuple[int, bool]:
    """Send one request on an open connection; (status, the server keeps the connection)."""
    head = [f"{kind.method} {kind.path} HTTP/1.1", f"Host: {HOST}:{port}"]
    if kind.body is not None or kind.declared_length is not None:
        length = kind.declared_length if kind.declared_length is not None else len(kind.body or b"")
        head += [f"Content-Type: {kind.content_type}", f"Content-Length: {length}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (kind.body or b""))
    await writer.drain()
    return await _response(reader)


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length, keep = 0, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        key, _, value = line.decode("latin-1").partition(":")
        if key.lower() == "content-length":
            length = int(value.strip())
        elif key.lower() == "connection" and value.strip().lower() == "close":
            keep = False
    await reader.readexactly(length)
    return status, keep


# ------------------------------------------------------------------------ load


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    kind_seconds: dict[str, list[float]] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)  # answers other than the one promised
    errors: list[str] = field(default_factory=list)  # connections that failed

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    def kinds(self) -> list[tuple[str, int, float, float]]:
        """(kind, count, median ms, max ms) per request kind."""
        out = []
        for name, times in sorted(self.kind_seconds.items()):
            ordered = sorted(times)
            out.append((name, len(times), round(1000 * ordered[len(ordered) // 2], 1), round(1000 * ordered[-1], 1)))
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients, "seconds": round(self.seconds, 1), "requests": self.requests,
            "throughput_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(1000 * self.percentile(50), 1), "p99_ms": round(1000 * self.percentile(99), 1),
            "max_ms": round(1000 * max(self.latencies, default=0), 1),
            "statuses": dict(sorted(self.statuses.items())), "server_errors": self.server_errors,
            "wrong_status": len(self.wrong), "connection_errors": len(self.errors),
        }


async def _client(port: int, mix: list[tuple[Kind, int]], until: float, result: LoadResult,
                  rng: random.Random, max_requests: int) -> None:
    kinds = [k for k, _ in mix]
    weights = [w for _, w in mix]
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    sent = 0
    while time.monotonic() < until and sent < max_requests:
        kind = rng.choices(kinds, weights)[0]
        sent += 1
        try:
            if connection is None:
                connection = await asyncio.open_connection(HOST, port)
            start = time.monotonic()
            status, keep = await _send(*connection, kind, port)
            took = time.monotonic() - start
            result.latencies.append(took)
            result.kind_seconds.setdefault(kind.name, []).append(took)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
            result.errors.append(f"{kind.name}: {type(exc).__name__}: {exc}")
            connection = None
            continue
        result.statuses[status] += 1
        result.by_kind[kind.name] += 1
        if status != kind.expect:
            result.wrong.append(f"{kind.name}: {status}, expected {kind.expect}")
        if not keep or kind.declared_length is not None:  # it never sent the body it declared
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def run_load(port: int, *, clients: int = 50, seconds: float = 30.0, seed: int = 0,
                   max_requests: int = 100_000) -> LoadResult:
    """``clients`` concurrent clients, each sending requests from the mix for ``seconds`` (and
    at most ``max_requests`` each)."""
    mix = request_mix()
    result = LoadResult(clients, seconds)
    start = time.monotonic()
    until = start + seconds
    await asyncio.gather(*(_client(port, mix, until, result, random.Random(seed + i), max_requests)
                           for i in range(clients)))
    result.seconds = time.monotonic() - start
    return result


# ------------------------------------------------------------------------ slow clients


@dataclass
class SlowResult:
    kind: str
    dropped_after: list[float]  # seconds until the server closed each connection (or answered)
    statuses: list[int]  # what the server answered before closing (none for the silent ones)


async def _hold(port: int, kind: str, give_up: float) -> tuple[float, int | None]:
    """Open a slow connection; seconds until the server ended it, and its answer if it sent one."""
    reader, writer = await asyncio.open_connection(HOST, port)
    start = time.monotonic()
    body = json.dumps({"source": SMALL}).encode()
    head = (f"POST /api/analyze HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    trickle = {"silent": b"", "headers": head, "body": body}[kind]
    if kind == "body":
        writer.write(head)
    status: int | None = None
    sent = 0
    try:
        with contextlib.suppress(ConnectionError, OSError):
            while time.monotonic() - start < give_up:
                try:
                    answer = await asyncio.wait_for(reader.read(1), 0.25)  # one byte every 0.25 s
                except asyncio.TimeoutError:
                    answer = None
                if answer is not None:  # the server spoke or closed
                    if answer:
                        rest = await asyncio.wait_for(reader.read(), give_up)
                        status = int((answer + rest).split(b" ", 2)[1])
                    break
                if sent < len(trickle):
                    writer.write(trickle[sent:sent + 1])
                    await writer.drain()
                    sent += 1
    finally:
        writer.close()
    return time.monotonic() - start, status


async def slow_clients(port: int, *, each: int = 10, give_up: float = 30.0) -> list[SlowResult]:
    """``each`` connections of every slow kind at once: silent, headers trickled, body trickled."""
    out = []
    kinds = ("silent", "headers", "body")
    done = await asyncio.gather(*(_hold(port, kind, give_up) for kind in kinds for _ in range(each)))
    for n, kind in enumerate(kinds):
        part = done[n * each:(n + 1) * each]
        out.append(SlowResult(kind, [t for t, _ in part], [s for _, s in part if s is not None]))
    return out


# ------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def start_server(*args: str, port: int | None = None) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``netarith serve`` in a child process on 127.0.0.1; yields (port, process) once it answers."""
    port = port or free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "netarith", "serve", "--host", HOST, "--port", str(port), *args],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {process.stderr.read().decode() if process.stderr else ''}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start within 30 s")
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU time the server process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(port: int, path: str = "/api/zoo", timeout: float = 10) -> tuple[int, float]:
    """One GET on a fresh connection: (status, seconds)."""
    async def once() -> tuple[int, float]:
        start = time.monotonic()
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            status, _ = await asyncio.wait_for(_send(reader, writer, Kind("get", "GET", path, None, 200), port),
                                               timeout)
        finally:
            writer.close()
        return status, time.monotonic() - start

    return asyncio.run(once())


def post(port: int, path: str, payload: Any, timeout: float = 30) -> tuple[int, float]:
    """One POST on a fresh connection: (status, seconds)."""
    async def once() -> tuple[int, float]:
        start = time.monotonic()
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            status, _ = await asyncio.wait_for(_send(reader, writer, _post("post", path, payload, 0), port), timeout)
        finally:
            writer.close()
        return status, time.monotonic() - start

    return asyncio.run(once())
