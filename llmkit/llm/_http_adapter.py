"""The one place llmkit reaches into httpx2's internals: a transport over our own backend.

The sync client's deadlines live in an httpcore2 *network backend* (``_deadline.py``).
httpcore2's ``ConnectionPool`` takes one as public API, but ``httpx2.HTTPTransport`` does
not expose it: it builds its pool itself and keeps it in the private attribute ``_pool``,
through which ``handle_request`` sends every request. This adapter replaces that one
attribute, after checking it is still what it was in the tested versions
(:data:`TESTED_RANGE`, pinned in ``pyproject.toml``), so an httpx2 that changes it fails
here with that range named instead of quietly sending requests around the deadline.
``tests/llm/test_http_adapter.py`` is the contract: a request made through the transport
must go through the backend.
"""

from __future__ import annotations

import httpcore2
import httpx2

from llmkit._exceptions import ConfigError

__all__ = ["TESTED_RANGE", "UnsupportedLibraryError", "transport_over_backend"]

TESTED_RANGE = "httpx2>=2.16,<2.18"


class UnsupportedLibraryError(ConfigError):
    """An installed library changed the internals llmkit relies on (names the tested range)."""


def transport_over_backend(
    backend: httpcore2.NetworkBackend, limits: httpx2.Limits
) -> httpx2.HTTPTransport:
    """httpx2's own transport (request mapping, errors, TLS) whose connections use ``backend``.

    Raises:
        UnsupportedLibraryError: this httpx2 keeps no ``httpcore2.ConnectionPool`` in
            ``HTTPTransport._pool``.
    """
    # One TLS context for both pools (loading the CA store takes ~18 ms each time).
    ssl_context = httpx2.create_ssl_context()
    transport = httpx2.HTTPTransport(verify=ssl_context, limits=limits)
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore2.ConnectionPool:
        raise UnsupportedLibraryError(
            f"httpx2 {httpx2.__version__} no longer keeps an httpcore2.ConnectionPool in "
            f"HTTPTransport._pool (found {type(pool).__name__}); llmkit's call deadlines are "
            f"tested with {TESTED_RANGE}"
        )
    transport._pool = httpcore2.ConnectionPool(  # the pool httpx2 builds, over our backend
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport
