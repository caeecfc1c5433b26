"""Turning whatever an attempt raised into one llmkit error, and deciding if it is retryable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

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

__all__ = ["AttemptFailed", "classify"]


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
        return self.kind(self.message, endpoint=endpoint, attempts=attempts, status=self.status)


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``Retry-After`` (or ``retry-after-ms``): a number or an HTTP date."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time())
        except (TypeError, ValueError):
            return None


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
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
        return AttemptFailed(CallTimeoutError, "timed out waiting for the server", True)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        text = f"{type(cause).__name__}: {cause}".strip()
        if "RemoteProtocolError" in text or "incomplete" in text.lower() or "closed" in text:
            return AttemptFailed(BadResponseError, f"connection cut mid-response ({text})", True)
        return AttemptFailed(ConnectError, f"could not connect ({text})", True)
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
    if isinstance(exc, openai.APIError):
        return AttemptFailed(BadResponseError, f"bad response: {exc}"[:300], False)
    raise exc
