"""A cap on response bodies, decompressed size included (``Client(max_response_bytes=…)``).

It also notes whether an event stream carried ``data: [DONE]`` (the SDK drops that event),
so a stream that ends with it and no ``finish_reason`` is told from one cut short.

A server may send a 50 MB body, or 200 KB of gzip that inflates to 200 MB: read whole,
either ends in a raw ``MemoryError`` gigabytes later. So the client's transport asks for
the encodings it can decode itself (gzip, deflate), decodes them as the bytes arrive with
a bounded inflater, and stops with a clear error the moment the body passes the cap.
The SDK then sees a plain, already decoded body.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

from llmkit._exceptions import BadResponseError
from llmkit.llm._errors import AttemptFailed

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SSE_DONE",
    "AsyncCappedTransport",
    "CappedTransport",
    "async_capped_transport",
    "check_limit",
]

DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: how much of an error response's body (status >= 400) is read: its message is in the start
ERROR_BODY_BYTES = 64 * 1024
_DECODED = "gzip, deflate"  # what we inflate ourselves, bounded
#: key in the response's ``extensions``: True once a ``data: [DONE]`` line went by
SSE_DONE = "llmkit_sse_done"
# At a line start only: inside a JSON string a newline is escaped, so this is an SSE line.
_BOM = b"\xef\xbb\xbf"
_DONE_LINE = re.compile(rb"(?:^|[\r\n])data: ?\[DONE\][ \t]*(?:\r?\n|\r|$)")


class _DoneWatch:
    """Looks for ``data: [DONE]`` across chunk boundaries (keeps a short tail)."""

    def __init__(self, extensions: dict[str, Any]) -> None:
        self.extensions = extensions
        self.tail = b"\n"

    def see(self, data: bytes) -> None:
        if self.extensions.get(SSE_DONE):
            return
        window = self.tail + data
        if _DONE_LINE.search(window):
            self.extensions[SSE_DONE] = True
        self.tail = window[-24:]


def too_large(limit: int, what: str) -> AttemptFailed:
    return AttemptFailed(
        BadResponseError,
        f"response body larger than max_response_bytes={limit} ({what});"
        " raise Client(max_response_bytes=...) if it is expected",
        retryable=False,
    )


class _Inflater:
    """Counts raw bytes and inflates gzip/deflate, never past ``limit`` bytes of output."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.raw = self.out = 0
        self.encoding = encoding
        self._z: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()  # zlib-wrapped; raw deflate is tried on error
        elif encoding not in ("", "identity"):
            raise AttemptFailed(
                BadResponseError,
                f"response uses content-encoding {encoding!r}; llmkit asked for {_DECODED}",
                retryable=False,
            )

    def feed(self, data: bytes) -> bytes:
        self.raw += len(data)
        if self.raw > self.limit:
            raise too_large(self.limit, "as sent")
        if self._z is None:
            return data
        try:
            out: bytes = self._z.decompress(data, self.limit - self.out + 1)
        except zlib.error:
            if self.encoding != "deflate" or self.out or self.raw != len(data):
                raise AttemptFailed(BadResponseError, "response body is corrupt", False) from None
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            out = self._z.decompress(data, self.limit - self.out + 1)
        self.out += len(out)
        if self.out > self.limit or self._z.unconsumed_tail:
            raise too_large(self.limit, f"{self.encoding} inflated")
        return out

    def flush(self, *, complete: bool = False) -> bytes:
        """The rest of the body. A compressed body that stops before its end marker was
        cut (its data may be cut too), unless ``complete``: its format judges that itself.
        """
        if self._z is None:
            return b""
        out: bytes = self._z.flush()
        self.out += len(out)
        if self.out > self.limit:
            raise too_large(self.limit, f"{self.encoding} inflated")
        if self.raw and not self._z.eof and not complete:
            raise AttemptFailed(
                BadResponseError,
                f"connection cut mid-response (the {self.encoding} body ended before its end)",
                retryable=True,
            )
        return out


def _capped(
    response: httpx2.Response, stream: Any, inflater: _Inflater, cls: type[_Capped]
) -> _Capped:
    # An error's message needs its first few hundred bytes: a 20 MB error page, read
    # whole on every attempt, would cost 20 MB each time for a 300-character message.
    keep = ERROR_BODY_BYTES if response.status_code >= 400 else None
    return cls(stream, inflater, keep)


def _decoded(
    response: httpx2.Response, request: httpx2.Request, stream: _Capped
) -> httpx2.Response:
    """The response as the SDK will see it: ``stream`` already decoded, so no encoding."""
    drop = {"content-encoding", "content-length"}
    decoded = httpx2.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in drop],
        stream=stream,
        extensions=dict(response.extensions),
        request=request,
    )
    if decoded.headers.get("content-type", "").startswith("text/event-stream"):
        stream.watch = _DoneWatch(decoded.extensions)
    return decoded


def _inflater(response: httpx2.Response, limit: int) -> _Inflater:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    return _Inflater(encoding, limit)


class _Capped(httpx2.SyncByteStream):
    def __init__(self, inner: Any, inflater: _Inflater, keep: int | None = None) -> None:
        self._inner, self._inflater = inner, inflater
        self.watch: _DoneWatch | None = None
        self._head: bytes | None = b""  # an event stream's first bytes, until past a BOM
        self._keep = keep  # an error body: this much of it is read, the rest dropped

    def _kept(self, out: bytes) -> tuple[bytes, bool]:
        """``out`` within what an error body keeps, and whether the body is done."""
        if self._keep is None:
            return out, False
        out = out[: self._keep]
        self._keep -= len(out)
        return out, self._keep <= 0

    def _out(self, data: bytes) -> bytes:
        if self.watch is None:
            return data
        if self._head is not None:
            # The SSE spec drops a leading BOM; the SDK does not, and would take the first
            # line's field for "\ufeffdata" and skip it: the answer lost, silently.
            data = self._head + data
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._head = data
                return b""
            self._head = None
            data = data.removeprefix(_BOM)
        if data:
            self.watch.see(data)
        return data

    def _end(self) -> bytes:
        # An event stream's own ending ([DONE], a finish_reason) says whether it is whole,
        # as for a plain one; a JSON body has none, so a cut gzip one is named as a cut.
        rest = self._out(self._inflater.flush(complete=self.watch is not None))
        head, self._head = self._head or b"", None
        return head + rest

    def __iter__(self) -> Iterator[bytes]:
        for part in self._inner:
            out, done = self._kept(self._out(self._inflater.feed(part)))
            if out:
                yield out
            if done:
                return
        rest, _ = self._kept(self._end())
        if rest:
            yield rest

    def close(self) -> None:
        self._inner.close()


class _AsyncCapped(_Capped, httpx2.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._inner:
            out, done = self._kept(self._out(self._inflater.feed(part)))
            if out:
                yield out
            if done:
                return
        rest, _ = self._kept(self._end())
        if rest:
            yield rest

    async def aclose(self) -> None:
        await self._inner.aclose()


def _ask_for_decodable(request: httpx2.Request) -> None:
    request.headers["Accept-Encoding"] = _DECODED


class CappedTransport(httpx2.BaseTransport):
    """Wraps a sync transport: bodies capped at ``limit`` bytes, decoded as they arrive."""

    def __init__(self, inner: httpx2.BaseTransport, limit: int) -> None:
        self._inner, self.limit = inner, limit

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        _ask_for_decodable(request)
        response = self._inner.handle_request(request)
        try:
            inflater = _inflater(response, self.limit)
        except AttemptFailed:
            response.close()
            raise
        return _decoded(response, request, _capped(response, response.stream, inflater, _Capped))

    def close(self) -> None:
        self._inner.close()


class AsyncCappedTransport(httpx2.AsyncBaseTransport):
    """Async twin of :class:`CappedTransport`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int) -> None:
        self._inner, self.limit = inner, limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        _ask_for_decodable(request)
        response = await self._inner.handle_async_request(request)
        try:
            inflater = _inflater(response, self.limit)
        except AttemptFailed:
            await response.aclose()
            raise
        stream = _capped(response, response.stream, inflater, _AsyncCapped)
        return _decoded(response, request, stream)

    async def aclose(self) -> None:
        await self._inner.aclose()


def async_capped_transport(limit: int) -> AsyncCappedTransport:
    """httpx2's async transport with the SDK's own pool limits, capped at ``limit`` bytes."""
    import openai

    return AsyncCappedTransport(
        httpx2.AsyncHTTPTransport(limits=openai.DEFAULT_CONNECTION_LIMITS), limit
    )


def check_limit(limit: object) -> int:
    """``max_response_bytes`` as given, if it is a positive integer."""
    from llmkit._exceptions import ConfigError

    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ConfigError(f"max_response_bytes={limit!r}: expected a positive number of bytes")
    return limit
