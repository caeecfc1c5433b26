"""Keep secrets out of everything the benchmark writes or prints.

Server error bodies, exception texts and URLs are untrusted: a proxy may echo the
``Authorization`` header, an exception may quote a URL with ``user:password@``.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["REDACTED", "Redactor", "public_url"]

REDACTED = "***"
# user:password@ (or a bare token@) inside any URL-looking text
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def public_url(url: str) -> str:
    """``url`` without user:password, safe to print and store."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


class Redactor:
    """Replace the API key, the base URL's credentials and any bearer token with ``***``."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None) -> None:
        secrets: set[str] = set()
        if api_key:
            secrets.add(api_key)
        if base_url:
            parts = urlsplit(base_url)
            for value in (parts.username, parts.password):
                if value:
                    secrets.update({value, unquote(value)})
            if parts.username is not None or parts.password is not None:
                # aiohttp sends URL credentials as ``Basic base64(user:password)``.
                pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
                secrets.add(base64.b64encode(pair.encode()).decode())
        # Short values would blank out ordinary words; URL patterns still catch them.
        self._secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)
        return _BEARER.sub(rf"\1{REDACTED}", text)
