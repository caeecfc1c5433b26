"""Contract of the httpx2 adapter: requests through its transport use our network backend.

If an httpx2 release stops sending requests through ``HTTPTransport._pool`` (or keeps
something else there), these tests fail, and the sync client's deadlines would no longer
hold; the installed version must also lie in the range pinned in pyproject.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpcore2
import httpx2
import pytest
from packaging.requirements import Requirement

from llmkit.engine import EngineHandle
from llmkit.llm._http_adapter import (
    TESTED_RANGE,
    UnsupportedLibraryError,
    transport_over_backend,
)

ROOT = Path(__file__).resolve().parents[2]
LIMITS = httpx2.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=5)


class CountingBackend(httpcore2.NetworkBackend):
    """The real sync backend, counting the connections and reads made through it."""

    def __init__(self) -> None:
        self.inner = httpcore2.SyncBackend()
        self.connects = 0
        self.reads = 0

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        self.connects += 1
        backend = self

        class Stream(httpcore2.NetworkStream):
            def __init__(self, inner: httpcore2.NetworkStream) -> None:
                self.inner = inner

            def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
                backend.reads += 1
                return self.inner.read(max_bytes, timeout)

            def write(self, buffer: bytes, timeout: float | None = None) -> None:
                self.inner.write(buffer, timeout)

            def close(self) -> None:
                self.inner.close()

            def get_extra_info(self, info: str) -> Any:
                return self.inner.get_extra_info(info)

        return Stream(self.inner.connect_tcp(*args, **kwargs))


def test_every_request_goes_through_the_backend(engine: EngineHandle) -> None:
    backend = CountingBackend()
    with httpx2.Client(transport=transport_over_backend(backend, LIMITS)) as client:
        for _ in range(3):
            reply = client.get(f"{engine.base_url}/models")
            assert reply.status_code == 200 and reply.json()["data"]
    assert backend.connects == 1  # one pooled keep-alive connection, ours
    assert backend.reads >= 3


def test_the_installed_httpx2_is_in_the_pinned_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = next(Requirement(r) for r in project["dependencies"] if r.startswith("httpx2"))
    assert pinned == Requirement(TESTED_RANGE)  # the adapter names the range pyproject pins
    assert pinned.specifier.contains(httpx2.__version__), (httpx2.__version__, TESTED_RANGE)


def test_a_changed_httpx2_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = httpx2.HTTPTransport.__init__

    def init_without_pool(self: httpx2.HTTPTransport, **kwargs: Any) -> None:
        original(self, **kwargs)
        del self._pool  # what a release that renamed or restructured it would look like

    monkeypatch.setattr(httpx2.HTTPTransport, "__init__", init_without_pool)
    with pytest.raises(UnsupportedLibraryError, match=r"httpx2>=2\.16,<2\.18"):
        transport_over_backend(CountingBackend(), LIMITS)
