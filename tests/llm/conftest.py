from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hostile import Hostile


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hostile() -> Iterator[Callable[..., Hostile]]:
    """A factory of hostile servers (see ``tests/llm/hostile.py``), stopped at teardown."""
    servers: list[Hostile] = []

    def factory(behaviour: str, **kwargs: Any) -> Hostile:
        server = Hostile(behaviour, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
