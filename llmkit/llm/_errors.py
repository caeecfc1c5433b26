"""Turning whatever an attempt raised into one llmkit error, and deciding if it is retryable."""

from __future__ import annotations

import json
import math
import ssl
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

import anyio
import httpcore2
import httpx2
import openai

from llmkit._exceptions import (
    AuthError,
    BadResponseError,
    CallTimeoutError,
    ConnectError,
    LLMCallError,
    ModelNotFoundError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)

__all__ = ["AttemptFailed", "classify", "in_band_error", "is_timeout", "transport_error"]


@dataclass
class AttemptFailed(Exception):
    """An attempt failed; tenacity looks at ``retryable`` and ``retry_after``."""

    kind: type[LLMCallError]
    message: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message

    def to_error(self, endpoint: str, attempts: int) -> LLMCallError:
        message = self.message
        if self.status == 404 and not endpoint.rstrip("/").endswith("/v1"):
            # Most OpenAI-compatible servers live under /v1; a bare 404 does not say so.
            message += f" (base URLs usually end in /v1: try {endpoint.rstrip('/')}/v1)"
        return self.kind(message, endpoint=endpoint, attempts=attempts, status=self.status)


def _positive(seconds: float) -> float | None:
    # 0, a negative, NaN or a date gone by say nothing about when: the back-off decides.
    # (Taken as 0, they had every attempt sent at once: 1000 attempts in 2.5 s.)
    return seconds if seconds > 0 and not math.isnan(seconds) else None


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``Retry-After`` (or ``retry-after-ms``): a number or an HTTP date."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return _positive(float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return _positive(float(value))
    except ValueError:
        try:
            return _positive(parsedate_to_datetime(value).timestamp() - time())
        except (TypeError, ValueError):
            return None


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own words: OpenAI's ``{"error": {"message"}}``, FastAPI's ``{"detail"}``
    (a string, or a list of ``{"msg", "loc"}``), a bare ``{"message"}``, or the text."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if isinstance(inner, str) and inner:
            return inner[:300]
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail[:300]
        if isinstance(detail, list) and detail:
            parts = [
                f"{'.'.join(str(x) for x in d.get('loc', ()))}: {d.get('msg', '')}".lstrip(": ")
                if isinstance(d, dict)
                else str(d)
                for d in detail
            ]
            return "; ".join(parts)[:300]
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return str(exc.message)[:300]


def classify(exc: BaseException, *, partial: bool = False) -> AttemptFailed:
    """Map an exception from one attempt to an :class:`AttemptFailed`.

    Args:
        exc: what the SDK (or our stream reader) raised.
        partial: text was already given to the caller, so the attempt must not be retried.
    """
    failed = _classify(exc)
    if partial:
        return AttemptFailed(
            StreamInterruptedError,
            f"stream broke after text reached the caller ({failed.message})",
            retryable=False,
            status=failed.status,
        )
    return failed


def _classify(exc: BaseException) -> AttemptFailed:
    if isinstance(exc, AttemptFailed):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return AttemptFailed(CallTimeoutError, _timed_out(exc.__cause__), True)
    if isinstance(exc, openai.APIConnectionError):
        return _connection_failed(exc.__cause__ or exc)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        msg = f"HTTP {status}: {_server_message(exc)}"
        if status in (401, 403):
            return AttemptFailed(AuthError, msg, False, status)
        if status == 404:
            return AttemptFailed(ModelNotFoundError, msg, False, status)
        if status == 429:
            return AttemptFailed(
                RateLimitError, msg, True, status, _retry_after(exc.response.headers)
            )
        if status >= 500 or status == 408:
            return AttemptFailed(ServerError, msg, True, status, _retry_after(exc.response.headers))
        return AttemptFailed(LLMCallError, msg, False, status)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return AttemptFailed(BadResponseError, f"response is not valid JSON ({exc})"[:300], False)
    if isinstance(exc, UnicodeDecodeError):
        return AttemptFailed(BadResponseError, "response is not valid UTF-8", False)
    if isinstance(exc, RecursionError):  # `[[[[...]]]]` 100 000 deep: what json.loads says
        return AttemptFailed(BadResponseError, "response JSON is nested too deeply to parse", False)
    if isinstance(exc, openai.APIError):  # `data: {"error": ...}` in a 200 event stream
        return in_band_error(exc.body if exc.body is not None else exc.message)
    transport = transport_error(exc)
    if transport is not None:
        return transport
    raise exc


def _error_code(error: Any) -> int | None:
    """The HTTP-like status an in-band error names (``code``/``status``), if any."""
    if not isinstance(error, dict):
        return None
    for key in ("code", "status", "status_code"):
        value = error.get(key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    return None


def in_band_error(error: Any) -> AttemptFailed:
    """An error a server sent in a 200 (vLLM and SGLang do: ``{"error": {"message", "code"}}``),
    as the kind its ``code`` names; one without a code is a ``BadResponseError``.

    Retried like the status it names (a 429, a 5xx) unless text already reached the caller.
    """
    code = _error_code(error)
    text = error.get("message") if isinstance(error, dict) else error
    text = str(text or json.dumps(error, default=str))[:300]
    msg = f"the server sent an error instead of an answer: {text}"
    if code is not None:
        msg += f" (code {code})"
    if code in (401, 403):
        return AttemptFailed(AuthError, msg, False)
    if code == 404:
        return AttemptFailed(ModelNotFoundError, msg, False)
    if code == 429:
        return AttemptFailed(RateLimitError, msg, True)
    if code is not None and (code >= 500 or code == 408):
        return AttemptFailed(ServerError, msg, True)
    if code is not None and code >= 400:
        return AttemptFailed(LLMCallError, msg, False)
    return AttemptFailed(BadResponseError, msg, False)


# What the HTTP stack raises, by type (the SDK wraps most of it, but not all, and not
# always): never by matching words in a class name.
_TIMEOUTS = (httpx2.TimeoutException, httpcore2.TimeoutException, TimeoutError)
_CONNECT = (
    httpx2.ConnectError,
    httpx2.ProxyError,
    httpx2.UnsupportedProtocol,
    httpcore2.ConnectError,
    httpcore2.ProxyError,
    httpcore2.UnsupportedProtocol,
    ConnectionRefusedError,
    ssl.SSLError,
)
_CUT = (
    httpx2.TransportError,  # ReadError, WriteError, RemoteProtocolError, ...
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    ConnectionError,
)


def _timed_out(cause: BaseException | None) -> str:
    """Which wait ran out, from the HTTP stack's own exception."""
    if isinstance(cause, httpx2.WriteTimeout | httpcore2.WriteTimeout):
        return "timed out sending the request (the server is not reading it)"
    if isinstance(cause, httpx2.ConnectTimeout | httpcore2.ConnectTimeout):
        return "timed out connecting to the server"
    if isinstance(cause, httpx2.PoolTimeout | httpcore2.PoolTimeout):
        return "timed out waiting for a free connection"
    return "timed out waiting for the server"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _redirect_loop(exc: BaseException) -> AttemptFailed:
    # The server answered, with redirects only: asking again gets the same loop.
    return AttemptFailed(
        BadResponseError, f"too many redirects, a redirect loop? ({_describe(exc)})", False
    )


def _connection_failed(cause: BaseException) -> AttemptFailed:
    """An ``APIConnectionError``: could not connect, or the connection broke mid-response."""
    if isinstance(cause, AttemptFailed):  # our transport's verdict (a body over the cap)
        return cause
    if isinstance(cause, httpx2.TooManyRedirects):
        return _redirect_loop(cause)
    if isinstance(cause, _TIMEOUTS):
        return AttemptFailed(CallTimeoutError, f"timed out ({_describe(cause)})", True)
    if isinstance(cause, _CONNECT):
        return AttemptFailed(ConnectError, f"could not connect ({_describe(cause)})", True)
    if isinstance(cause, _CUT):
        return AttemptFailed(
            BadResponseError, f"connection cut mid-response ({_describe(cause)})", True
        )
    return AttemptFailed(ConnectError, f"could not connect ({_describe(cause)})", True)


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is a wait that ran out, whichever layer raised it."""
    return isinstance(exc, (*_TIMEOUTS, openai.APITimeoutError))


def transport_error(exc: BaseException) -> AttemptFailed | None:
    """An HTTP-stack error the SDK let through unwrapped, mapped by its type; else ``None``."""
    if isinstance(exc, httpx2.TooManyRedirects):
        return _redirect_loop(exc)
    if isinstance(exc, _TIMEOUTS):
        return AttemptFailed(
            CallTimeoutError, f"no data from the server in time ({_describe(exc)})", True
        )
    if isinstance(exc, _CONNECT):
        return AttemptFailed(ConnectError, f"could not connect ({_describe(exc)})", True)
    if isinstance(exc, _CUT):
        return AttemptFailed(BadResponseError, f"stream cut mid-way ({_describe(exc)})", True)
    return None
