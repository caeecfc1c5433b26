"""The send log: when the engine wrote every chunk, on the shared monotonic clock.

``time.perf_counter_ns()`` is CLOCK_MONOTONIC on Linux, so a client in another process
can compare its receive times with these send times. Clients correlate by the response
``id`` present in every chunk. The hot path appends plain tuples; records are built only
when read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal

from llmkit._exceptions import ConfigError

__all__ = ["SendKind", "SendLog", "SendRecord", "read_send_log"]

#: ``role`` role-only first chunk; ``output``/``reasoning`` chunks carrying that text;
#: ``usage`` the final usage-only chunk; ``done`` the ``[DONE]`` line; ``garbage`` an
#: injected non-JSON line; ``body`` a whole non-streaming response; ``error`` an error
#: response (4xx/5xx, injected non-JSON body).
SendKind = Literal["role", "output", "reasoning", "usage", "done", "garbage", "body", "error"]


@dataclass(frozen=True)
class SendRecord:
    """One chunk as it was written.

    Attributes:
        t_ns: ``time.perf_counter_ns()`` just before the write.
        response_id: the ``id`` in the chunk (``chatcmpl-…`` / ``cmpl-…``).
        index: the chunk's position in its response (0-based, every kind counted).
        tokens: tokens the chunk carried (completion tokens for ``body``).
        kind: what the chunk was.
        fault: the fault applied to this response ("" when none), e.g. ``malformed:tabs``.
        target_ns: when the scheduler step that made this chunk was due (its absolute
            target on the same clock); 0 for chunks no timed step made (role, errors,
            whole bodies, zero-delay engines). A paced chunk is never sent early:
            ``t_ns >= target_ns``, and tests compare against this instead of wall-clock
            thresholds.
    """

    t_ns: int
    response_id: str
    index: int
    tokens: int
    kind: SendKind
    fault: str = ""
    target_ns: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data."""
        return asdict(self)


_TERMINAL_KINDS = frozenset({"done", "body", "error"})


class SendLog:
    """Collects send records in memory and/or as JSONL lines.

    Args:
        keep: keep records in memory (for :meth:`records`).
        path: also write JSONL lines to this file (truncated first).

    Raises:
        ConfigError: ``path`` cannot be opened for writing.
    """

    def __init__(self, *, keep: bool = True, path: str | Path | None = None) -> None:
        self.keep = keep
        self._rows: list[tuple[int, str, int, int, str, str, int]] = []
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        if path is not None:
            try:
                self._file = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the send log {path}: {exc.strerror or exc}"
                ) from None

    @property
    def enabled(self) -> bool:
        return self.keep or self._file is not None

    def add(
        self,
        t_ns: int,
        response_id: str,
        start_index: int,
        meta: Iterable[tuple[int, str, int]],
        fault: str,
    ) -> int:
        """Record consecutive chunks written at ``t_ns``; returns the next index.

        ``meta`` holds ``(tokens, kind, target_ns)`` per chunk.
        """
        rows = [
            (t_ns, response_id, start_index + j, tokens, kind, fault, target)
            for j, (tokens, kind, target) in enumerate(meta)
        ]
        if self.keep:
            self._rows.extend(rows)
        if self._file is not None:
            self._file.write(
                "".join(
                    f'{{"t_ns":{r[0]},"response_id":"{r[1]}","index":{r[2]},"tokens":{r[3]},'
                    f'"kind":"{r[4]}","fault":{json.dumps(r[5])},"target_ns":{r[6]}}}\n'
                    for r in rows
                )
            )
            # A reader may look right after a response ends: flush at its last chunk.
            if rows and rows[-1][4] in _TERMINAL_KINDS:
                self._file.flush()
        return start_index + len(rows)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def records(self) -> list[SendRecord]:
        """A snapshot of every record so far, in write order."""
        with self._lock:
            rows = list(self._rows)
        return [SendRecord(*r) for r in rows]  # type: ignore[arg-type]

    def clear(self) -> None:
        with self._lock:
            self._rows = []


def read_send_log(path: str | Path) -> list[SendRecord]:
    """Read a JSONL send log written by ``llmkit serve --send-log FILE``."""
    out: list[SendRecord] = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(SendRecord(**json.loads(line)))
    return out
