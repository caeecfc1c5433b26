"""The one place the benchmark reaches into aiohttp's internals: stamping body bytes.

Body bytes are stamped when aiohttp's protocol hands them to the response's
``StreamReader`` (``feed_data``, called from ``data_received``) and kept out of the
reader's buffer, so the request's task wakes once at the end instead of once per chunk.
With hundreds of streams the per-chunk task wake-ups were what delayed the next stamps by
milliseconds.

aiohttp has no hook for this, so :func:`divert` swaps the reader's class for a subclass
with the same slots layout whose ``feed_data`` stamps. That relies on three things the
tested range (:data:`TESTED_RANGE`, pinned in ``pyproject.toml``) does and
``tests/bench/test_aiohttp_adapter.py`` checks: the response body reader is exactly
``aiohttp.StreamReader``, its class can be assigned, and the protocol delivers every body
byte through ``reader.feed_data`` and ends it with ``feed_eof``. Where the first two fail
at run time, :func:`divert` returns ``False`` and the client stamps at read time instead.

A diverted body is also capped: bytes pass the reader already decoded (aiohttp inflates
gzip/deflate), so the cap counts the decompressed size, and the moment a body passes it
the reader fails with :class:`ResponseTooLarge` and drops the rest. A hostile server's
endless stream or gzip bomb costs at most the cap in memory, not all it sends.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import Any

import aiohttp

__all__ = ["TESTED_RANGE", "ResponseTooLarge", "divert", "undivert"]

TESTED_RANGE = "aiohttp>=3.9,<3.15"


class ResponseTooLarge(Exception):
    """A response body passed ``max_response_bytes`` (decompressed size included)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"response body larger than max_response_bytes={limit} (decompressed size"
            " included); raise --max-response-bytes if it is expected"
        )


class _Sink:
    """Where a diverted reader's pieces go, and how many more bytes it may take."""

    __slots__ = ("chunks", "left", "limit", "times")

    def __init__(self, times: list[int], chunks: list[bytes], limit: int) -> None:
        self.times, self.chunks, self.limit, self.left = times, chunks, limit, limit


# id(reader) -> the sink of each diverted reader
_SINKS: dict[int, _Sink] = {}


class _StampingReader(aiohttp.StreamReader):
    """``StreamReader`` that diverts body bytes, stamped, to a sink (same slots layout)."""

    __slots__ = ()

    def feed_data(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        sink = _SINKS.get(id(self))
        if sink is None:
            return super().feed_data(data, *args, **kwargs)
        if data and sink.left >= 0:
            sink.left -= len(data)
            if sink.left < 0:  # over the cap: wake the reader with the error, drop the rest
                self.set_exception(ResponseTooLarge(sink.limit))
                return False
            sink.times.append(perf_counter_ns())
            sink.chunks.append(data)
        return False


def divert(reader: Any, times: list[int], chunks: list[bytes], limit: int) -> bool:
    """From now on, append each body piece of ``reader`` and its arrival time to the lists.

    The reader then returns only what it had buffered already, then EOF; once the pieces
    pass ``limit`` bytes it raises :class:`ResponseTooLarge` instead. Returns ``False``
    (nothing changed) if ``reader`` is not a plain ``aiohttp.StreamReader`` or aiohttp
    refuses the class swap. Call :func:`undivert` with ``id(reader)`` when the response ends.
    """
    if type(reader) is not aiohttp.StreamReader:
        return False
    try:
        reader.__class__ = _StampingReader
    except TypeError:  # another aiohttp layout: stamp at read time instead
        return False
    _SINKS[id(reader)] = _Sink(times, chunks, limit)
    return True


def undivert(reader_id: int) -> None:
    """Forget the sink of a finished response (its reader may be garbage soon)."""
    _SINKS.pop(reader_id, None)
