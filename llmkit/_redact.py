"""The one rule set that keeps secrets out of everything llmkit writes or prints.

Floor module: imports nothing of llmkit. The client's errors and call log, bench's CSV,
summary and console, cassettes and the annotation store all redact through it.

What counts as a secret:

- values handed over as secrets (an API key), at least 4 characters long;
- a URL's ``user:password@`` (or ``TOKEN@``), and the ``Basic base64(user:password)``
  header an HTTP library makes of it (a proxy may echo it back);
- a URL query value whose name says secret (``key``, ``api_key``, ``token``, ``sig``,
  ``signature``, ``access_token``, ...) or whose value looks like a key, and a
  ``name=value`` pair in free text whose name says secret;
- text shaped like a credential: ``Bearer …``, ``Basic …``, ``sk-…``, ``hf_…``, ``ghp_…``,
  ``AKIA…``, ``xox?-…``.

Every one becomes ``***``.
"""

from __future__ import annotations

import base64
import logging
import re
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Redactor",
    "install_log_filter",
    "public_url",
    "redact_text",
    "redact_url",
    "secret_query_name",
    "url_secrets",
]

REDACTED = "***"
_MIN_SECRET = 4  # shorter values would blank out ordinary words

_SECRET_NAMES = re.compile(
    r"(?i)^(?:x[-_])?(?:api[-_]?key|key|token|access[-_]?token|refresh[-_]?token|id[-_]?token|"
    r"auth|authorization|sig|signature|secret|client[-_]?secret|password|passwd|pwd|"
    r"session|sessionid|credential|credentials)$"
)
_KEY_LIKE = re.compile(r"^[A-Za-z0-9_\-.~+/=]{20,}$")
_KEY_PREFIXES = re.compile(r"^(?:sk|pk|rk)-|^(?:hf|gh[pousr]|xox[abprs]|glpat)[_-]|^AKIA|^AIza")
_CREDENTIAL_TEXT = [
    re.compile(r"\b(?:sk|rk)-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
]
_AUTH_SCHEME = re.compile(r"(?i)\b((?:bearer|basic)\s+)([A-Za-z0-9._~+/=-]{8,})")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s?#\"'<>]+@")
_QUERY_PAIR = re.compile(r"([?&;])([^=&\s#\"'<>]+)=([^&\s#\"'<>]*)")
# ``token=…`` in free text (a log line, an error): by name only, ids stay readable
_TEXT_PAIR = re.compile(r"(^|[\s,(\[{\"'])([A-Za-z][\w-]*)=([^&\s#\"'<>,)\]}]*)")


def secret_query_name(name: str) -> bool:
    """Whether a query parameter's name says its value is a secret."""
    return bool(_SECRET_NAMES.match(unquote(name)))


def _key_like(value: str) -> bool:
    """A value shaped like an API key: a known prefix, or long, unbroken, letters and digits."""
    value = unquote(value)
    if _KEY_PREFIXES.match(value):
        return len(value) >= 8
    return (
        bool(_KEY_LIKE.match(value))
        and any(c.isdigit() for c in value)
        and (any(c.isalpha() for c in value))
    )


def _query_value(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    if value and (secret_query_name(name) or _key_like(value)):
        return f"{sep}{name}={REDACTED}"
    return match.group(0)


def _credential(match: re.Match[str]) -> str:
    """``Bearer <token>``/``Basic <base64>``, but not "Basic authentication failed"."""
    scheme, token = match.groups()
    mixed = any(c.isupper() for c in token) and any(c.islower() for c in token)
    if mixed or any(c.isdigit() or c in "+/=_-." for c in token):
        return f"{scheme}{REDACTED}"
    return match.group(0)


def _text_value(match: re.Match[str]) -> str:
    before, name, value = match.groups()
    if value and secret_query_name(name):
        return f"{before}{name}={REDACTED}"
    return match.group(0)


def redact_text(text: str, *secrets: str) -> str:
    """``text`` with the given secrets and anything shaped like a credential replaced."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len)[::-1]:
        # Any case: a server may echo the key upper-cased ("Invalid key SK-ABC...").
        text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
    text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)
    text = _QUERY_PAIR.sub(_query_value, text)
    text = _TEXT_PAIR.sub(_text_value, text)
    text = _AUTH_SCHEME.sub(_credential, text)
    for pattern in _CREDENTIAL_TEXT:
        text = pattern.sub(REDACTED, text)
    return text


def _redact_query(query: str) -> str:
    if not query:
        return query
    return _QUERY_PAIR.sub(_query_value, "?" + query)[1:]


def _split(url: str) -> tuple[str, str, str, str, str] | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here, not later
    except ValueError:
        return None
    return parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment


def _lone_user_is_secret(scheme: str, user: str) -> bool:
    """A user name without a password: over HTTP it is a token (``https://TOKEN@host``);
    in a database URL (``postgresql://alice@host/db``) a name, unless shaped like a key."""
    return scheme.lower() in ("http", "https", "ws", "wss") or _key_like(user)


def redact_url(url: str) -> str:
    """``url`` fit to show: ``user:***@`` (an HTTP token user ``***@``), secret query
    values ``***``."""
    split = _split(url)
    if split is None:
        return redact_text(url)
    scheme, netloc, path, query, fragment = split
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        if has_password:
            netloc = f"{user}:{REDACTED}@{host}"
        elif _lone_user_is_secret(scheme, user):
            netloc = f"{REDACTED}@{host}"
    return urlunsplit((scheme, netloc, path, _redact_query(query), fragment))


def public_url(url: str) -> str:
    """``url`` without any credentials and with secret query values ``***``."""
    split = _split(url)
    if split is None:
        return redact_text(url)
    scheme, netloc, path, query, fragment = split
    return urlunsplit((scheme, netloc.rpartition("@")[2], path, _redact_query(query), fragment))


def url_secrets(url: str) -> tuple[str, ...]:
    """The secrets a URL carries: user, password, their Basic header, secret query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: list[str] = []
    if parts.password is not None:
        found += [parts.password, unquote(parts.password)]
    elif parts.username and _lone_user_is_secret(parts.scheme, parts.username):
        found += [parts.username, unquote(parts.username)]  # ``https://TOKEN@host``
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        found.append(base64.b64encode(pair.encode()).decode())
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if secret_query_name(name) or _key_like(value):
            found.append(value)
    return tuple(dict.fromkeys(s for s in found if len(s) >= _MIN_SECRET))


class Redactor:
    """Redacts known secrets (keys, and those the URLs carry) and the generic rules."""

    def __init__(self, secrets: tuple[str | None, ...] = (), urls: tuple[str, ...] = ()) -> None:
        found = [s for s in secrets if s]
        for url in urls:
            found.extend(url_secrets(url))
        self._urls = tuple(u for u in urls if u)
        self.secrets = tuple(dict.fromkeys(s for s in found if len(s) >= _MIN_SECRET))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for url in self._urls:
            text = text.replace(url, redact_url(url))
        return redact_text(text, *self.secrets)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()
# The HTTP libraries log request URLs (user:password@ and ?key= included) at INFO/DEBUG.
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "aiohttp.client", "urllib3")


def install_log_filter(names: tuple[str, ...] = HTTP_LOGGERS) -> None:
    """Put the redacting filter on the HTTP libraries' loggers and their existing children.

    A filter on a logger sees only the records logged on that very logger, not those its
    children propagate, hence the children too (they exist once the libraries are imported).
    """
    existing = [
        n for n in logging.root.manager.loggerDict if n.startswith(tuple(f"{x}." for x in names))
    ]
    for name in (*names, *existing):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
