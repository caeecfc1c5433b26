"""Server-sent events, parsed by hand: the one SSE reader of llmkit (bench, eval recording).

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

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser", "data_events", "parse_reads"]


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


def data_events(
    times: Sequence[int], chunks: Sequence[bytes]
) -> tuple[list[int], list[bytes], bool] | None:
    """The common case, fast: every event one ``data:`` line, ``\\n`` line ends.

    Returns each event's arrival time (of the read that completed it), its data and
    whether the stream ended mid-event, exactly as :func:`parse_reads` would, without
    building an object per event. Returns ``None`` when the stream needs the full parser
    (CR line ends, multi-line events, fields other than ``data``).
    """
    buf = b"".join(chunks)
    if b"\r" in buf:
        return None
    parts = buf.split(b"\n\n")
    tail = parts.pop()
    # Each dispatched part must be a single line: no other newline anywhere.
    if buf.count(b"\n") != 2 * len(parts) + tail.count(b"\n"):
        return None
    out_t: list[int] = []
    out_d: list[bytes] = []
    ends = list(itertools.accumulate(len(c) for c in chunks))
    read = 0
    n_reads = len(ends)
    pos = -1
    add_t, add_d = out_t.append, out_d.append
    last_read = n_reads - 1
    end = ends[0] if ends else 0
    for part in parts:
        pos += len(part) + 2  # offset of the blank line's newline: the dispatch byte
        if part.startswith(b"data:"):
            if end <= pos and read < last_read:  # the event ended in a later read
                while read < last_read and ends[read] <= pos:
                    read += 1
                end = ends[read]
            add_t(times[read])
            add_d(part[6:] if part.startswith(b"data: ") else part[5:])
        elif part and part[0] != 58:  # not empty, not a comment: another field
            return None
    # Complete lines after the last event still count: data there was never dispatched.
    *lines, last = tail.split(b"\n")
    partial = bool(last) or any(ln[:5] == b"data:" or ln == b"data" for ln in lines)
    return out_t, out_d, partial
