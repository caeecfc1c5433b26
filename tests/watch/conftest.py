from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from llmkit import _observe
from llmkit import watch as llmkit_watch


@pytest.fixture(autouse=True)
def watch_off() -> Iterator[None]:
    """Every test starts and ends with the watch off (it is process-global)."""
    llmkit_watch.disable()
    yield
    llmkit_watch.disable()
    assert not _observe.OBSERVERS


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
