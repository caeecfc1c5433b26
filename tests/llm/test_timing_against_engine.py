"""The client's timing matches the engine's send log in the tricky cases.

Leading whitespace (held back while it might open ``<think>``) keeps its arrival time,
and reasoning tokens do not dilute TPOT.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sendlog import settled_sends

from llmkit.engine import EngineConfig
from llmkit.llm import Client

SCENARIO = """
name: timing-cases
rules:
  - name: leading-whitespace
    match: {user: 'whitespace'}
    answers: ["\\n\\nHello world this is text"]
  - name: reasoning-field
    match: {user: 'reasoning'}
    reasoning: ["let me think about it carefully now"]
    reasoning_style: field
    answers: ["the answer is here with words"]
  - name: reasoning-think
    match: {user: 'inline'}
    reasoning: ["let me think about it carefully now"]
    reasoning_style: think
    answers: ["the answer is here with words"]
"""


@pytest.fixture
def slow_engine(make_engine: Callable[..., Any], tmp_path: Path) -> Any:
    scenario = tmp_path / "timing.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return make_engine(EngineConfig.slow(50, scenario=str(scenario), send_log=True))


def _sent(engine: Any, response_id: str | None, kind: str) -> list[int]:
    return settled_sends(engine, response_id, kind)


@pytest.mark.slow
def test_leading_whitespace_keeps_its_arrival_time(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    scenario = tmp_path / "timing.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    # 10 tokens/s: 100 ms between chunks, so a busy machine cannot blur the two apart.
    eng = make_engine(EngineConfig.slow(10, scenario=str(scenario), send_log=True))
    with Client(base_url=eng.base_url, model="llmkit-sim") as client:
        result = client.chat("whitespace please", max_tokens=6)
    sent = _sent(eng, result.response_id, "output")
    assert result.text.startswith("\n\nHello")
    ttft_ns = result.timing.sent_ns + result.timing.ttft_ms * 1e6  # type: ignore[operator]
    # TTFT is the first output chunk (the newlines), held back while they might have
    # opened <think>, not the first visible word that came 100 ms later.
    assert sent[0] <= ttft_ns < sent[1]
    assert len(result.timing.chunk_times_ns) == len(sent)


@pytest.mark.parametrize("prompt", ["reasoning please", "inline please"])
def test_reasoning_tokens_do_not_dilute_tpot(slow_engine: Any, prompt: str) -> None:
    with Client(base_url=slow_engine.base_url, model="llmkit-sim") as client:
        result = client.chat(prompt, max_tokens=100)
    t = result.timing
    assert result.reasoning and "think" not in result.text
    assert t.reasoning_tokens > 0
    assert t.ttfr_ms is not None and t.ttft_ms is not None and t.ttfr_ms < t.ttft_ms
    # 50 tokens/s: 20 ms per answer token; counting reasoning tokens would halve it.
    # Judged against when the engine sent the answer's chunks, not a wall-clock figure.
    sent = _sent(slow_engine, result.response_id, "output")
    assert t.tpot_ms == pytest.approx((sent[-1] - sent[0]) / 1e6 / (len(sent) - 1), abs=6)
    assert t.output_tokens + t.reasoning_tokens == result.usage["completion_tokens"]  # type: ignore[index]
