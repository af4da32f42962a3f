"""``netarith serve`` under load, from this process to a server in another, over 127.0.0.1.

A few seconds each (the 30-second run with 50 clients is ``make load``, results in
docs/load-test.md). The oracle of every answer is the status the web issue promises for that
request (tests/loadkit.py ``request_mix``): a 5xx, a wrong status or a dropped connection fails.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

if not os.environ.get("CI"):
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")

from . import loadkit

CLIENT_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server() -> tuple[int, object]:
    with loadkit.start_server("--client-timeout", str(CLIENT_TIMEOUT), "--time-limit", "2") as running:
        yield running  # type: ignore[misc]


def test_short_load_with_slow_clients(server: tuple[int, object]) -> None:
    port, _ = server

    async def both() -> tuple[loadkit.LoadResult, list[loadkit.SlowResult]]:
        return await asyncio.gather(loadkit.run_load(port, clients=10, seconds=4, seed=1),
                                    loadkit.slow_clients(port, each=3, give_up=10))

    load, slow = asyncio.run(both())
    summary = load.summary()
    assert load.requests > 20, summary
    assert summary["server_errors"] == 0 and not load.wrong and not load.errors, (summary, load.wrong, load.errors)
    assert {413, 422, 400, 415, 200} <= set(load.statuses), summary  # the limits were exercised
    for s in slow:  # each slow connection was dropped once its time was up, not before, not much after
        assert all(CLIENT_TIMEOUT - 0.1 <= t < CLIENT_TIMEOUT + 2.5 for t in s.dropped_after), (s.kind, s.dropped_after)
    body = next(s for s in slow if s.kind == "body")
    assert body.statuses == [408] * 3  # a trickled body is told why


def test_slow_clients_hold_no_worker(server: tuple[int, object]) -> None:
    """While 30 connections dawdle, a normal request is answered at once."""
    port, _ = server

    async def scenario() -> tuple[int, float]:
        slow = asyncio.ensure_future(loadkit.slow_clients(port, each=10, give_up=10))
        await asyncio.sleep(0.5)  # the slow connections are open and waiting
        start = time.monotonic()
        reader, writer = await asyncio.open_connection(loadkit.HOST, port)
        status, _ = await loadkit._send(reader, writer, loadkit._post("ok", "/api/analyze",
                                                                     {"source": loadkit.SMALL}, 200), port)
        took = time.monotonic() - start
        writer.close()
        await slow
        return status, took

    status, took = asyncio.run(scenario())
    assert status == 200 and took < CLIENT_TIMEOUT, took


def test_time_limit_stops_the_computation() -> None:
    """A request over its time limit is answered 503 and its computation stops: the server's
    CPU goes quiet and the next request is answered at once."""
    heavy = "input 8x32x32\n" + "conv 8 k3 p1\n" * 9_000  # every derivation of it: about 4 s
    with loadkit.start_server("--time-limit", "0.5") as (port, process):
        status, took = loadkit.post(port, "/api/explain", {"source": heavy})
        assert status == 503 and took < 0.5 + 5, took
        time.sleep(0.3)
        before = loadkit.cpu_seconds(process)
        time.sleep(1.0)
        assert loadkit.cpu_seconds(process) - before < 0.5
        status, took = loadkit.get(port)
        assert status == 200 and took < 1.0
