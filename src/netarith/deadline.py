"""A time limit that the long computations honour, for callers that must answer in time.

The web API gives each request a few seconds. A thread cannot be stopped from outside, so
the computations that can run long (the analysis, layer by layer; the size searches; the
audit's search) call :func:`check`, which raises :class:`DeadlineExceeded` once the limit
set by :func:`time_limit` in the same thread has passed. The computation then ends at the
next layer it reaches instead of running on unseen after its request has been answered.

Without a limit, :func:`check` is one attribute lookup. ``DeadlineExceeded`` is not a
:class:`~netarith.errors.NetarithError`: it is not about the input, and handlers that turn
input errors into messages must let it through to the caller that set the limit.

>>> import time
>>> with time_limit(0.0):
...     time.sleep(0.001)
...     check()
Traceback (most recent call last):
    ...
netarith.deadline.DeadlineExceeded: the computation took longer than 0 s
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["DeadlineExceeded", "check", "limited", "time_limit"]

# (deadline, seconds) of the innermost limit. A context variable is per thread (each thread
# starts with a context of its own) and per asyncio task, and costs no `threading` import.
_limit: ContextVar[tuple[float, float] | None] = ContextVar("netarith_time_limit", default=None)


class DeadlineExceeded(Exception):
    """The time limit set by :func:`time_limit` has passed."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Make :func:`check` raise in this thread once ``seconds`` have passed (limits nest)."""
    previous = _limit.get()
    at = time.monotonic() + seconds
    if previous is not None and previous[0] < at:
        at, seconds = previous
    token = _limit.set((at, seconds))
    try:
        yield
    finally:
        _limit.reset(token)


def check() -> None:
    """Raise DeadlineExceeded if this thread's time limit has passed."""
    limit = _limit.get()
    if limit is not None and time.monotonic() > limit[0]:
        raise DeadlineExceeded(f"the computation took longer than {limit[1]:g} s")


def limited() -> bool:
    """Whether this thread has a time limit: a loop of many short steps calls :func:`check`
    only then (a limit is set around a computation, never inside it)."""
    return _limit.get() is not None
