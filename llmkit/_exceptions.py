"""Exceptions raised by llmkit.

The tree::

    LLMKitError
    ├── ConfigError                  bad arguments or environment (no model, bad URL)
    ├── LLMCallError                 a model call failed (carries endpoint, attempts, cause)
    │   ├── ConnectError             refused connection, DNS failure, wrong base URL
    │   ├── AuthError                401/403
    │   ├── ModelNotFoundError       404 for the model or path
    │   ├── RateLimitError           429 after all retries
    │   ├── ServerError              5xx after all retries
    │   ├── CallTimeoutError         connect/read/stall/total timeout
    │   ├── BadResponseError         non-JSON body, garbage SSE, missing fields
    │   └── StreamInterruptedError   a stream cut after text reached the caller
    ├── StructuredOutputError        no valid value could be recovered from model text
    │   ├── UnsafeInputError         input rejected before loading (size, depth, aliases, tags, NUL)
    │   └── ParseError               text could not be parsed or validated (carries raw text, position)
    └── StatisticsError              a statistic cannot be computed from its input (also a ValueError)

Subpackages add their own under these (``SuiteError``, ``AnnotationError``, ...), and
``MissingExtraError`` (a ``ConfigError`` and an ``ImportError``) lives in ``llmkit.extras``.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadResponseError",
    "CallTimeoutError",
    "ConfigError",
    "ConnectError",
    "LLMCallError",
    "LLMKitError",
    "ModelNotFoundError",
    "ParseError",
    "RateLimitError",
    "ServerError",
    "StatisticsError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "UnsafeInputError",
]


class LLMKitError(Exception):
    """Base of every error llmkit raises on purpose."""


class ConfigError(LLMKitError):
    """Arguments or environment do not describe a usable configuration."""


class LLMCallError(LLMKitError):
    """A model call failed.

    Attributes:
        endpoint: the base URL called (never carries the API key).
        attempts: how many attempts were made.
        status: the last HTTP status, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        attempts: int = 0,
        status: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        self.status = status
        self.reason = message
        where = f" ({endpoint}" if endpoint else ""
        if where:
            where += f", after {attempts} attempt{'s' if attempts != 1 else ''})"
        super().__init__(f"{message}{where}")


class ConnectError(LLMCallError):
    """The endpoint could not be reached."""


class AuthError(LLMCallError):
    """The endpoint refused the credentials (401/403)."""


class ModelNotFoundError(LLMCallError):
    """The endpoint does not know the model or path (404)."""


class RateLimitError(LLMCallError):
    """Still rate limited (429) when retries ran out."""


class ServerError(LLMCallError):
    """Server errors (5xx) when retries ran out."""


class CallTimeoutError(LLMCallError):
    """A connect, read, stall or total-call timeout."""


class BadResponseError(LLMCallError):
    """The response was not what the protocol promises (non-JSON, garbage SSE)."""


class StreamInterruptedError(LLMCallError):
    """A stream broke after part of it was given to the caller, so it was not retried."""


class StructuredOutputError(LLMKitError):
    """No valid value could be recovered from model text.

    Attributes:
        raw: the model text.
        position: character offset of the problem, if known.
    """

    def __init__(self, message: str, *, raw: str = "", position: int | None = None) -> None:
        self.raw = raw
        self.position = position
        super().__init__(message)


class UnsafeInputError(StructuredOutputError):
    """Input refused before or while loading: too large, too deep, too many aliases, tags, NUL."""


class ParseError(StructuredOutputError):
    """The text could not be parsed, repaired or validated."""


class StatisticsError(LLMKitError, ValueError):
    """A statistic cannot be computed from its input (no values, unequal pairs, a bad level).

    Also a ``ValueError``, the error such input raises in numpy and the standard library.
    """
