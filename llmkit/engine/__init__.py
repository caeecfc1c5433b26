"""The embedded OpenAI-compatible engine behind ``llmkit serve``.

Scenario-driven answers, one continuous-batching scheduler that models a real engine's
timing, a send log on the shared monotonic clock, and fault injection::

    from llmkit.engine import EngineConfig, start_engine

    with start_engine(EngineConfig.zero_delay(send_log=True)) as engine:
        ...  # point any OpenAI client at engine.base_url
"""

from __future__ import annotations

from llmkit.extras import require_extra as _require_extra

_require_extra("llmkit.engine", "engine")  # one clear line, not a ModuleNotFoundError below

from llmkit.engine._config import FAULT_KINDS, PRESETS, EngineConfig, Faults
from llmkit.engine._handles import (
    EngineHandle,
    EngineProcess,
    config_to_args,
    start_engine,
    start_engine_process,
)
from llmkit.engine._malform import MALFORMERS, Malformer, malform
from llmkit.engine._scenarios import RenderedAnswer, Rule, Scenario, load_scenario
from llmkit.engine._sendlog import SendKind, SendRecord, read_send_log
from llmkit.engine._server import Engine

__all__ = [
    "FAULT_KINDS",
    "MALFORMERS",
    "PRESETS",
    "Engine",
    "EngineConfig",
    "EngineHandle",
    "EngineProcess",
    "Faults",
    "Malformer",
    "RenderedAnswer",
    "Rule",
    "Scenario",
    "SendKind",
    "SendRecord",
    "config_to_args",
    "load_scenario",
    "malform",
    "read_send_log",
    "start_engine",
    "start_engine_process",
]
