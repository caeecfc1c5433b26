"""Server-sent events, parsed by hand (the openai SDK is ~20x too slow for measuring).

The parser is incremental: :meth:`SSEParser.feed` takes whatever bytes one network read
returned and gives back the events that read *completed*, each stamped with that read's
time. Lines and events may be split anywhere across reads, including between ``\\r``
and ``\\n``. The benchmark keeps only ``(t_ns, bytes)`` pairs while the response streams
and runs this parser after the run, so parsing costs nothing in the measured path.

Follows the WHATWG rules that matter here: ``data:`` lines accumulate (joined by
``\\n``), a blank line dispatches, ``:`` starts a comment, unknown fields are ignored,
an unterminated event at end of stream is dropped (and reported as such).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser", "parse_reads"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: when the read that completed it arrived, its type and data."""

    t_ns: int
    data: bytes
    event: str = "message"


class SSEParser:
    """Incremental SSE parser over raw bytes."""

    __slots__ = ("_data", "_event", "_tail", "partial")

    def __init__(self) -> None:
        self._tail = b""
        self._data: list[bytes] = []
        self._event = b""
        self.partial = False

    def feed(self, chunk: bytes, t_ns: int = 0) -> list[SSEEvent]:
        """Events completed by ``chunk`` (stamped ``t_ns``)."""
        if self._tail:
            chunk = self._tail + chunk
        if b"\r" in chunk:
            # A trailing CR may be the first half of CRLF: keep it for the next read.
            hold = chunk.endswith(b"\r")
            if hold:
                chunk = chunk[:-1]
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = chunk.split(b"\n")
            self._tail = lines.pop() + (b"\r" if hold else b"")
        else:
            lines = chunk.split(b"\n")
            self._tail = lines.pop()
        out: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value[:1] == b" " else value)
            elif not line:
                if data:
                    name = self._event.decode("utf-8", "replace") or "message"
                    out.append(SSEEvent(t_ns, b"\n".join(data), name))
                    data.clear()
                self._event = b""
            elif line[0] == 58:  # ":" comment / keep-alive
                continue
            else:
                name_b, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name_b == b"event":
                    self._event = value
                elif name_b == b"data":  # "data" with no colon: an empty data line
                    data.append(value)
                # id, retry and unknown fields do not matter to a benchmark
        return out

    def close(self, t_ns: int = 0) -> list[SSEEvent]:
        """End of stream: an unterminated event is dropped, as the spec says; remember it."""
        out: list[SSEEvent] = []
        if self._tail.endswith(b"\r"):  # a held CR was a line end after all
            out = self.feed(b"\n", t_ns)
        self.partial = bool(self._data) or bool(self._tail.strip(b"\r\n"))
        self._data.clear()
        self._tail = b""
        return out


def parse_reads(times: Iterable[int], chunks: Iterable[bytes]) -> tuple[list[SSEEvent], bool]:
    """Parse a recorded stream; returns its events and whether it ended mid-event."""
    parser = SSEParser()
    events: list[SSEEvent] = []
    t = 0
    for t, c in zip(times, chunks, strict=True):
        events.extend(parser.feed(c, t))
    events.extend(parser.close(t))
    return events, parser.partial
