"""Running the app under uvicorn with limits on slow and idle clients (``netarith serve``).

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` seconds, but only
once it has answered a request on it: a client that connects and sends nothing, or sends its
headers a byte at a time, keeps its connection (and a file descriptor) for ever. The protocol
here closes any connection whose request headers are not complete ``client_timeout`` seconds
after it opened (or after its previous answer). Slow bodies are the app's business: it answers
408 when a body takes longer than its ``body_timeout`` (``app.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CLIENT_TIMEOUT", "MAX_CONNECTIONS", "protocol", "serve"]

#: seconds a client has to send its request headers (and its body: the app's body_timeout)
CLIENT_TIMEOUT = 10.0
#: open connections beyond this are answered 503 by uvicorn at once
MAX_CONNECTIONS = 1000


def protocol(client_timeout: float) -> type:
    """uvicorn's h11 protocol, closing connections whose request headers do not arrive in time."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimelyH11Protocol(H11Protocol):
        _headers_timer: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._headers_timer = self.loop.call_later(client_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def _too_slow(self) -> None:
            self._headers_timer = None
            waiting_for_headers = self.cycle is None or self.cycle.response_complete
            if waiting_for_headers and not self.transport.is_closing():
                self.transport.close()

    return TimelyH11Protocol


def serve(app: Any, host: str, port: int, *, client_timeout: float = CLIENT_TIMEOUT,
          max_connections: int = MAX_CONNECTIONS, log_level: str = "warning") -> None:
    """Serve ``app`` until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, http=protocol(client_timeout),
                timeout_keep_alive=5, limit_concurrency=max_connections, backlog=2048)
