"""End-to-end deadlines: ``Timeouts.total`` and ``Timeouts.stall`` hold whatever arrives.

An HTTP library's read timeout bounds one socket read, so a server that sends a byte (or an
SSE comment) every second keeps a call alive forever, and a clock checked only when a chunk
arrives never runs on a server that sends none. So:

* the async client bounds every wait (the request, and each next chunk) with an anyio
  timeout of what is left;
* the sync client cannot be interrupted from outside, so its HTTP connections go through a
  network backend that caps every connect, read and write at what is left of the current
  attempt's :class:`Budget` and refuses to read once it is spent.

Only a parsed chunk counts as progress (:meth:`Budget.progress`): comments and keep-alives
reset neither the stall timer nor the deadline.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpcore2
import httpx2

from llmkit.llm._http_adapter import transport_over_backend

__all__ = ["Budget", "budget_transport", "spending"]

# After the finish_reason, the usage chunk follows at once where it comes at all.
AFTER_FINISH_S = 2.0

_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "llmkit_budget", default=None
)


@dataclass
class Budget:
    """What is left of one attempt: the call's deadline and the attempt's stall limit.

    Attributes:
        deadline: ``time.monotonic()`` at which the whole call ends (retries included).
        total: the call's total limit in seconds, for messages.
        stall: seconds allowed without a parsed chunk (``None``: no stall limit).
        progress_at: when the last chunk (or the attempt) began.
        spent: ``"total"`` or ``"stall"`` once a limit ran out.
    """

    deadline: float
    total: float
    stall: float | None = None
    progress_at: float = field(default_factory=time.monotonic)
    spent: str | None = None

    def progress(self) -> None:
        """A chunk was parsed: the stall timer starts again (the deadline never does)."""
        self.progress_at = time.monotonic()

    def answer_finished(self) -> None:
        """The answer's ``finish_reason`` came: only usage and ``[DONE]`` may follow, and a
        server that never sends them nor hangs up is waited for :data:`AFTER_FINISH_S`."""
        if self.stall is not None:
            self.stall = min(self.stall, AFTER_FINISH_S)

    def left(self) -> float:
        """Seconds until the nearer limit; records which one it is when it is spent."""
        now = time.monotonic()
        total_left = self.deadline - now
        stall_left = float("inf") if self.stall is None else self.progress_at + self.stall - now
        left = min(total_left, stall_left)
        if left <= 0 and self.spent is None:
            self.spent = "total" if total_left <= stall_left else "stall"
        return left

    def expire(self) -> None:
        """A timer set to :meth:`left` fired: note which limit it was."""
        if self.spent is None:
            stall_end = float("inf") if self.stall is None else self.progress_at + self.stall
            self.spent = "total" if self.deadline <= stall_end else "stall"

    def cap(self, timeout: float | None) -> float:
        """``timeout`` capped at what is left; raises ``ReadTimeout`` once nothing is."""
        left = self.left()
        if left <= 0:
            raise httpcore2.ReadTimeout(self.message())
        return left if timeout is None else min(timeout, left)

    def message(self) -> str:
        if self.spent == "stall":
            return f"stall timeout: no chunk for {self.stall:g} s"
        return f"total call timeout of {self.total:g} s reached"


@contextmanager
def spending(budget: Budget) -> Iterator[None]:
    """Make ``budget`` the one the sync network backend enforces, for this block only.

    Set and reset around each blocking step (not across a generator's ``yield``), so the
    caller's own code between chunks never runs under it.
    """
    token = _current.set(budget)
    try:
        yield
    finally:
        _current.reset(token)


class _Stream(httpcore2.NetworkStream):
    """A socket stream whose every read and write is capped by the current budget."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _current.get()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        capped = budget.cap(timeout)
        try:
            return self._inner.read(max_bytes, capped)
        except httpcore2.ReadTimeout:
            if timeout is None or capped < timeout:
                budget.expire()  # our cap fired, not the SDK's own read timeout
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _current.get()
        if budget is None:
            self._inner.write(buffer, timeout)
            return
        capped = budget.cap(timeout)
        try:
            self._inner.write(buffer, capped)
        except httpcore2.WriteTimeout:  # a server that never reads a large request
            if timeout is None or capped < timeout:
                budget.expire()
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        budget = _current.get()
        capped = timeout if budget is None else budget.cap(timeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, capped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        budget = _current.get()
        capped = timeout if budget is None else budget.cap(timeout)
        return _Stream(self._inner.connect_tcp(host, port, capped, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        budget = _current.get()
        capped = timeout if budget is None else budget.cap(timeout)
        return _Stream(self._inner.connect_unix_socket(path, capped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def budget_transport() -> httpx2.HTTPTransport:
    """A transport for the sync SDK client that enforces the current :class:`Budget`."""
    # The openai SDK's own pool limits.
    limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=5)
    return transport_over_backend(_Backend(), limits)
