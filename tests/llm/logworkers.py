"""Functions run in child processes by the call-log tests (importable by name)."""

from __future__ import annotations

import traceback
from typing import Any

from llmkit.llm import CallLog


def first_write(path: str, barrier: Any, results: Any, n: int) -> None:
    """Wait for every sibling, then open a fresh log and append one row at the same moment."""
    try:
        barrier.wait()
        log = CallLog(path)
        log.append(
            {
                "started_at": float(n),
                "base_url": "u",
                "request_json": "{}",
                "attempts": 1,
                "attempts_json": "[]",
            }
        )
        log.close()
        results.put((n, None))
    except BaseException:
        results.put((n, traceback.format_exc(limit=3)))
