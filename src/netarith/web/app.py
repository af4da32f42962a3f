"""The Starlette application: routes, limits, headers. Handlers live in :mod:`.api`.

Limits: bodies over 1 MB are refused with 413 before they are read whole; a body
must be JSON (415 when sent as something else, 400 when it does not parse); each
request gets ``time_limit`` seconds of computation (503 after; the computation itself stops at
its next layer), its body ``body_timeout`` seconds to arrive (408 after), and at most
``max_waiting`` requests queue for the two computing threads (429 beyond). Pages carry a
Content-Security-Policy that allows only the package's own scripts, so even a
name that slipped through escaping could not run. The Host header must name
this machine (DNS-rebinding defence) unless the server was bound elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from .. import deadline
from ..errors import MissingExtraError
from . import api

__all__ = ["STATIC", "create_app", "require"]

STATIC = Path(__file__).parent / "static"

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def require(package: str, purpose: str) -> None:
    """Raise MissingExtraError (naming the ``web`` extra) when ``package`` is not installed."""
    import importlib.util

    if importlib.util.find_spec(package) is None:
        raise MissingExtraError(package, "web", purpose)


#: requests that may wait for a computing thread; more are answered 429 at once (load shedding)
MAX_WAITING = 256


def create_app(*, time_limit: float = 10.0, allowed_hosts: Sequence[str] = (),
               max_body: int = api.MAX_BODY, body_timeout: float = 10.0, max_waiting: int = MAX_WAITING) -> Any:
    """The ASGI application behind ``netarith serve``.

    ``time_limit``: seconds of computation per request (503 after, and the computation stops
    at its next layer); ``body_timeout``: seconds for the whole body to arrive (408 after, so a
    body trickled byte by byte holds nothing for long); ``max_waiting``: requests that may queue
    for the two computing threads (429 beyond)."""
    require("starlette", "the web page and API")
    import anyio
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from .. import __version__
    from .openapi import describe

    limiter = anyio.CapacityLimiter(2)  # two cores: more threads would only queue
    queue = {"waiting": 0}

    def error(status: int, kind: str, message: str) -> JSONResponse:
        return JSONResponse(api.ApiError(status, kind, message).payload, status, headers=_HEADERS)

    async def read_json(request: Request) -> Any:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            raise api.ApiError(413, "TooLarge", f"request body over {max_body:,} bytes")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise api.ApiError(415, "UnsupportedMediaType",
                               "send the body as JSON with Content-Type: application/json")
        data = bytearray()
        try:
            with anyio.fail_after(body_timeout):
                async for chunk in request.stream():
                    data += chunk
                    if len(data) > max_body:
                        raise api.ApiError(413, "TooLarge", f"request body over {max_body:,} bytes")
        except TimeoutError:
            raise api.ApiError(408, "RequestTimeout", f"the request body did not arrive within "
                               f"{body_timeout:g} s") from None
        try:
            body = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise api.ApiError(400, "BadRequest", f"the body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise api.ApiError(400, "BadRequest", "the body must be a JSON object")
        return body

    def limited(fn: Callable[[], Any]) -> Any:
        with deadline.time_limit(time_limit):  # the computation checks it layer by layer
            return fn()

    async def run(fn: Callable[[], Any]) -> Any:
        if queue["waiting"] >= max_waiting:
            raise api.ApiError(429, "Busy", f"{queue['waiting']} requests are waiting; try again in a moment")
        queue["waiting"] += 1
        try:
            await limiter.acquire()
        finally:
            queue["waiting"] -= 1
        try:
            # the limit counts from when a thread starts computing, not while the request queues;
            # the outer bound only catches a computation that misses its checks
            with anyio.fail_after(time_limit + 5):
                return await anyio.to_thread.run_sync(lambda: limited(fn), abandon_on_cancel=True)
        except (TimeoutError, deadline.DeadlineExceeded):
            raise api.ApiError(503, "TimeLimit", f"the computation took longer than {time_limit:g} s; "
                               "try a smaller network") from None
        finally:
            limiter.release()

    def post(handler: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await read_json(request)
                result = await run(lambda: handler(body))
            except api.ApiError as exc:
                # A body left unread (too large, too slow) is not cut off here: closing at once would
                # reset the connection under a client still sending, and it might never see this
                # answer. The server drops the connection if no new request follows in time.
                return JSONResponse(exc.payload, exc.status, headers=_HEADERS)
            if isinstance(result, api.Download):
                headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{result.filename}"'}
                return Response(result.text, media_type=result.media_type, headers=headers)
            return JSONResponse(result, headers=_HEADERS)
        return endpoint

    async def zoo_list(request: Request) -> Response:
        return JSONResponse(await run(api.zoo_list), headers=_HEADERS)

    async def zoo_model(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            return JSONResponse(await run(lambda: api.zoo_model(name)), headers=_HEADERS)
        except api.ApiError as exc:
            return JSONResponse(exc.payload, exc.status, headers=_HEADERS)

    async def openapi(request: Request) -> Response:
        return JSONResponse(describe(__version__), headers=_HEADERS)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_HEADERS)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "NotFound", f"no such page: {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}")

    routes = [
        Route("/", index),
        Route("/api/openapi.json", openapi),
        Route("/api/zoo", zoo_list),
        Route("/api/zoo/{name}", zoo_model),
        *(Route(f"/api/{path}", post(handler), methods=["POST"]) for path, handler in api.HANDLERS.items()),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    hosts = ["127.0.0.1", "localhost", "::1", "[::1]"]
    hosts += [h for h in allowed_hosts if h not in ("0.0.0.0", "::")]
    if any(h in ("0.0.0.0", "::") for h in allowed_hosts):
        hosts = ["*"]  # bound on every interface on purpose: any name may reach it
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed},
                     middleware=[Middleware(_SecurityHeaders),
                                 Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


class _SecurityHeaders:
    """Adds the security headers to every response (static files and errors included)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()
                         if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _no_constant(name: str) -> float:
    """JSON has no NaN or Infinity; Python's parser would accept them."""
    raise ValueError(f"{name} is not JSON")

