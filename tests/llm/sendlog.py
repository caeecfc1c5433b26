"""The engine's send log, read once the engine has logged the whole response.

The client can finish before the engine's own bookkeeping does: the engine logs a
chunk after its write returns, and on a busy machine the client may already have read
that chunk, the end of the stream and returned. Reading the log at once then misses the
last records; wait for the response's terminal record (``done``, ``body`` or ``error``).
"""

from __future__ import annotations

import time
from typing import Any

TERMINAL = frozenset({"done", "body", "error"})


def settled_sends(
    engine: Any, response_id: str | None, kind: str, timeout: float = 10.0
) -> list[int]:
    """Send times of ``kind`` records of one response, once its last record is logged."""
    deadline = time.monotonic() + timeout
    while True:
        records = [r for r in engine.send_log() if r.response_id == response_id]
        if any(r.kind in TERMINAL for r in records) or time.monotonic() > deadline:
            return [r.t_ns for r in records if r.kind == kind]
        time.sleep(0.01)
