"""Where a client points: base URL, API key and model, from arguments or the environment."""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from llmkit._exceptions import ConfigError
from llmkit._redact import Redactor, redact_url

__all__ = ["Endpoint", "RetryPolicy", "Timeouts"]

# A placeholder key for local servers that ignore auth; not a secret.
_NO_KEY = "sk-no-key-required"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint. ``repr`` never shows the key or URL credentials.

    ``base_url`` is what requests go to (credentials included); ``safe_url`` is what
    messages, ``repr`` and the call log show.
    """

    base_url: str = field(repr=False)
    model: str | None
    api_key: str = field(default=_NO_KEY, repr=False)

    def __repr__(self) -> str:
        return f"Endpoint(base_url={self.safe_url!r}, model={self.model!r})"

    @property
    def safe_url(self) -> str:
        """The base URL with any credentials and secret query values masked."""
        return redact_url(self.base_url)

    @property
    def request_url(self) -> str:
        """``base_url`` without ``user:password@``: those travel as a Basic header."""
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Basic`` from the URL's credentials, if it has any."""
        parts = urlsplit(self.base_url)
        if parts.username is None and parts.password is None:
            return {}
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def secrets(self) -> tuple[str, ...]:
        """Every secret this endpoint holds: the key, the URL's credentials and secret query values."""
        return self._redactor.secrets

    @functools.cached_property
    def _redactor(self) -> Redactor:
        key = self.api_key if self.api_key != _NO_KEY else None
        return Redactor((key,), (self.base_url,))

    def redact(self, text: str) -> str:
        """``text`` without any of this endpoint's secrets (for messages and the log)."""
        return self._redactor(text)

    @classmethod
    def resolve(
        cls, base_url: str | None = None, api_key: str | None = None, model: str | None = None
    ) -> Endpoint:
        """Arguments first, then ``LLMKIT_*``, then ``OPENAI_*`` environment variables."""
        url = base_url or _env("LLMKIT_BASE_URL", "OPENAI_BASE_URL") or "https://api.openai.com/v1"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base URL {redact_url(url)!r} is not an http(s) URL"
                " (expected e.g. http://127.0.0.1:8000/v1)"
            )
        given_key = api_key or _env("LLMKIT_API_KEY", "OPENAI_API_KEY")
        if given_key and "@" in parts.netloc:
            # HTTP carries one Authorization header: Basic from the URL, or the Bearer key.
            where = "api_key" if api_key else "LLMKIT_API_KEY/OPENAI_API_KEY"
            raise ConfigError(
                f"base URL {redact_url(url)!r} carries credentials (user:password@) and an API"
                f" key is also given ({where}): HTTP sends one Authorization header, so pass"
                " one of them"
            )
        key = given_key or _NO_KEY
        return cls(
            base_url=url.rstrip("/"),
            model=model or _env("LLMKIT_MODEL", "OPENAI_MODEL"),
            api_key=key,
        )

    def require_model(self, model: str | None) -> str:
        """The model to call: ``model``, else the endpoint's; a ``ConfigError`` if neither."""
        chosen = model or self.model
        if not chosen:
            raise ConfigError(
                "no model given: pass model=..., or set LLMKIT_MODEL (or OPENAI_MODEL)"
            )
        return chosen


@dataclass(frozen=True)
class Timeouts:
    """Seconds.

    Attributes:
        connect: to open a connection.
        read: to wait for any byte of a non-streamed response.
        stall: without a chunk that carries data, in a stream (SSE comments and
            keep-alives do not count).
        total: the whole call, retries and back-off included, end to end: it holds whatever
            the server sends (comments only, one byte at a time) or does not send.
    """

    connect: float = 10.0
    read: float = 120.0
    stall: float = 30.0
    total: float = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retries owned by tenacity (the SDK is built with ``max_retries=0``).

    Attributes:
        max_attempts: attempts in all, the first included.
        initial_wait: base of the exponential back-off, seconds.
        max_wait: cap of one wait, seconds (also caps an honoured ``Retry-After``).
        jitter: add full jitter to the back-off.
    """

    max_attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 20.0
    jitter: bool = True
