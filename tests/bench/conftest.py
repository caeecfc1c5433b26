"""Fixtures for the benchmark tests: real engines on 127.0.0.1, real HTTP, no mocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmkit.engine import EngineConfig, EngineHandle, start_engine


@pytest.fixture
def bench_engine() -> Iterator[Callable[..., EngineHandle]]:
    """Start engines (in a thread, send log on) from ``EngineConfig`` fields or a preset."""
    started: list[EngineHandle] = []

    def make(config: EngineConfig | None = None, **fields: Any) -> EngineHandle:
        cfg = config if config is not None else EngineConfig(**fields)
        if not cfg.send_log:
            cfg = cfg.replace(send_log=True)
        handle = start_engine(cfg)
        started.append(handle)
        return handle

    yield make
    for h in started:
        h.stop()
