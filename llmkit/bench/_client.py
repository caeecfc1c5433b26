"""The measured path: send one request over aiohttp and keep raw timestamps, nothing else.

While a response streams, the loop only appends ``perf_counter_ns()`` and the bytes
of each network read to two lists; parsing, JSON decoding and token counting happen
after the run (:mod:`llmkit.bench._records`). That keeps the client cheap enough to
drive hundreds of streams from one core without its own delay leaking into the numbers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

import aiohttp

from llmkit.bench._aiohttp_adapter import ResponseTooLarge, divert, undivert
from llmkit.bench._config import DEFAULT_MAX_RESPONSE_BYTES

__all__ = [
    "RawResponse",
    "ResponseTooLarge",
    "make_session",
    "request_body",
    "send_request",
]

_ERROR_BODY_LIMIT = 2048


@dataclass(slots=True)
class RawResponse:
    """What the hot path recorded for one request (mutable while it is being filled)."""

    index: int
    scheduled_ns: int
    sent_ns: int = 0
    headers_ns: int | None = None
    end_ns: int | None = None
    status: int | None = None
    content_type: str = ""
    times: list[int] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    error: str | None = None
    error_detail: str = ""
    prompt_tokens_sent: int | None = None
    warmup: bool = False
    feed_times: list[int] = field(default_factory=list)
    feed_chunks: list[bytes] = field(default_factory=list)

    def arrivals(self) -> tuple[list[int], list[bytes]]:
        """The body's pieces, in order, each with the time it arrived.

        Bytes that came with the headers (read before diverting began) carry their read
        time; the rest carry their ``data_received`` time.
        """
        if not self.feed_chunks:
            return self.times, self.chunks
        return self.times + self.feed_times, self.chunks + self.feed_chunks


def make_session(
    *, connect_timeout_s: float, limit: int = 0, headers: dict[str, str] | None = None
) -> aiohttp.ClientSession:
    """One pooled session per level; ``limit=0`` lets every in-flight request have a socket."""
    connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300, enable_cleanup_closed=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers or {}, auto_decompress=True
    )


def _classify(exc: BaseException) -> tuple[str, str]:
    """Failure reason (a short stable key) and detail for an exception."""
    detail = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, ResponseTooLarge):
        return "too_large", str(exc)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect_timeout", detail
    if isinstance(exc, aiohttp.ServerTimeoutError):  # sock_read: no byte for stall_timeout_s
        return "stall", detail
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientOSError):
        if isinstance(exc, aiohttp.ClientConnectorError):
            return "connect", detail
        return "connection_reset", detail
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return "cut", detail
    if isinstance(exc, TimeoutError):
        return "timeout", detail
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "redirect_loop", f"more than {len(exc.history)} redirects: {detail}"[:300]
    if isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp's parser raises these (status 400 of its own) for a response that breaks
        # HTTP: a bad status line, endless headers, a bad chunk size, an unknown encoding.
        return "bad_http", f"the response broke HTTP: {exc.message}"[:300]
    if isinstance(exc, aiohttp.ClientError):
        return "client_error", detail
    return "error", detail


async def send_request(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    raw: RawResponse,
    *,
    stream: bool,
    timeout_s: float,
    stall_timeout_s: float,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> RawResponse:
    """Send ``body`` to ``url`` and fill ``raw`` with timestamps and bytes.

    Never raises for request failures: they end up in ``raw.error`` (a short reason key)
    so that a run goes on. Cancellation (Ctrl-C) is recorded as ``"interrupted"``. A body
    over ``max_response_bytes`` (decoded, as kept) stops being read: ``"too_large"``.
    """
    timeout = aiohttp.ClientTimeout(
        total=timeout_s, sock_read=stall_timeout_s if stall_timeout_s > 0 else None
    )
    times = raw.times
    chunks = raw.chunks
    reader_id = 0
    raw.sent_ns = perf_counter_ns()
    try:
        async with session.post(
            url, data=body, timeout=timeout, headers={"Content-Type": "application/json"}
        ) as resp:
            raw.headers_ns = perf_counter_ns()
            raw.status = resp.status
            raw.content_type = resp.headers.get("Content-Type", "")
            # Only a 200 streams; an error body is read whole below, not diverted.
            if (
                stream
                and resp.status == 200
                and divert(resp.content, raw.feed_times, raw.feed_chunks, max_response_bytes)
            ):
                reader_id = id(resp.content)
            if resp.status != 200:
                text = b""
                while len(text) < _ERROR_BODY_LIMIT:  # read() may return a part only
                    part = await resp.content.read(_ERROR_BODY_LIMIT - len(text))
                    if not part:
                        break
                    text += part
                raw.end_ns = perf_counter_ns()
                raw.error = f"http_{resp.status}"
                raw.error_detail = text.decode("utf-8", "replace")[:300]
                return raw
            read = resp.content.readany
            append_t = times.append
            append_c = chunks.append
            # The hot loop: a timestamp and the bytes of each read, nothing more. Once the
            # reader is diverted it returns only what came with the headers, then EOF.
            size = 0
            while True:
                data = await read()
                if not data:
                    break
                append_t(perf_counter_ns())
                append_c(data)
                size += len(data)
                if size > max_response_bytes:
                    raise ResponseTooLarge(max_response_bytes)
            if size + sum(map(len, raw.feed_chunks)) > max_response_bytes:
                raise ResponseTooLarge(max_response_bytes)  # the two parts of a diverted one
            raw.end_ns = perf_counter_ns()
    except asyncio.CancelledError:
        raw.end_ns = perf_counter_ns()
        raw.error = "interrupted"
        raw.error_detail = "cancelled before the response completed"
    except Exception as exc:  # every failure is data for the report, never a crash
        raw.end_ns = perf_counter_ns()
        raw.error, raw.error_detail = _classify(exc)
        if raw.error == "timeout":
            raw.error_detail = f"no complete response within {timeout_s:g} s"
    finally:
        if reader_id:
            undivert(reader_id)
    return raw


def request_body(
    *,
    model: str,
    messages: list[dict[str, Any]],
    max_tokens: int,
    stream: bool,
    continuous_usage: bool,
    ignore_eos: bool,
    temperature: float | None,
    seed: int | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The chat-completions request body (``ignore_eos`` only sent when asked for)."""
    body: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens}
    if stream:
        body["stream"] = True
        opts: dict[str, Any] = {"include_usage": True}
        if continuous_usage:
            opts["continuous_usage_stats"] = True
        body["stream_options"] = opts
    if ignore_eos:
        body["ignore_eos"] = True
    if temperature is not None:
        body["temperature"] = temperature
    if seed is not None:
        body["seed"] = seed
    if extra:
        body.update(extra)
    return body
