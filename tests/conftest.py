"""Shared fixtures: the embedded engine as a real HTTP server on 127.0.0.1.

``engine``       a zero-delay in-process engine (send log on), one per test.
``make_engine``  a factory: ``make_engine(max_batch=4, decode_step_ms=2)`` starts an
                 engine with those :class:`~llmkit.engine.EngineConfig` fields over the
                 zero-delay preset (send log on); every engine is stopped at teardown.
                 Pass ``config=EngineConfig(...)`` to give a whole config instead.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmkit.engine import EngineConfig, EngineHandle, start_engine


@pytest.fixture
def make_engine() -> Iterator[Callable[..., EngineHandle]]:
    handles: list[EngineHandle] = []

    def factory(config: EngineConfig | None = None, **fields: Any) -> EngineHandle:
        if config is None:
            config = EngineConfig.zero_delay(**{"send_log": True, **fields})
        elif fields:
            config = config.replace(**fields)
        handle = start_engine(config)
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.stop()


@pytest.fixture
def engine(make_engine: Callable[..., EngineHandle]) -> EngineHandle:
    return make_engine()


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background (`pytest ... &` from a script, nohup) inherits SIGINT
    # ignored, and exec hands that on to every child: the Ctrl-C tests' commands would never
    # see their SIGINT (a chat read EOF instead, an eval record ran to its end). Children of
    # a handled SIGINT start with the default, as under a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
