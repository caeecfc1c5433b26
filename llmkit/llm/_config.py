"""Where a client points: base URL, API key and model, from arguments or the environment."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from llmkit._exceptions import ConfigError

__all__ = ["Endpoint", "RetryPolicy", "Timeouts", "redact"]

# A placeholder key for local servers that ignore auth; not a secret.
_NO_KEY = "sk-no-key-required"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _redact_userinfo(url: str) -> str:
    """``http://user:KEY@host/v1`` -> ``http://user:***@host/v1`` (the user may stay)."""
    parts = urlsplit(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    shown = f"{user}:***@{host}" if parts.password is not None else f"***@{host}"
    return urlunsplit(parts._replace(netloc=shown))


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
        """The base URL with any credentials in it masked (``user:***@host``)."""
        return _redact_userinfo(self.base_url)

    def secrets(self) -> tuple[str, ...]:
        """Every secret this endpoint holds: the key, and the URL's password or user."""
        parts = urlsplit(self.base_url)
        found = [self.api_key]
        if parts.password is not None:
            found += [parts.password, unquote(parts.password)]
        elif parts.username:  # a token given as the user (``https://TOKEN@host``)
            found += [parts.username, unquote(parts.username)]
        if parts.username is not None or parts.password is not None:
            # The HTTP library sends URL credentials as ``Basic base64(user:password)``,
            # and a server or proxy may echo that header back.
            pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            found.append(base64.b64encode(pair.encode()).decode())
        return tuple(dict.fromkeys(found))

    def redact(self, text: str) -> str:
        """``text`` without any of this endpoint's secrets (for messages and the log)."""
        text = text.replace(self.base_url, self.safe_url)
        for secret in self.secrets():
            text = redact(text, secret)
        return text

    @classmethod
    def resolve(
        cls, base_url: str | None = None, api_key: str | None = None, model: str | None = None
    ) -> Endpoint:
        """Arguments first, then ``LLMKIT_*``, then ``OPENAI_*`` environment variables."""
        url = base_url or _env("LLMKIT_BASE_URL", "OPENAI_BASE_URL") or "https://api.openai.com/v1"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base URL {_redact_userinfo(url)!r} is not an http(s) URL"
                " (expected e.g. http://127.0.0.1:8000/v1)"
            )
        key = api_key or _env("LLMKIT_API_KEY", "OPENAI_API_KEY") or _NO_KEY
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


def redact(text: str, secret: str) -> str:
    """Remove a secret from text that may be shown or stored."""
    if secret and secret != _NO_KEY and len(secret) >= 4:
        text = text.replace(secret, "***")
    return text


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
