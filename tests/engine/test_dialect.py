"""A server dialect that differs from OpenAI's (``EngineConfig(dialect="bare")``, ``llmkit
serve --dialect bare``): no ``stream_options``, no usage, FastAPI's error body. The wire
format is checked raw, then llmkit's client, structured calls and eval record/replay are
run against it, as they would meet such a self-hosted OpenAI-compatible server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from evals.conftest import SUITE

from llmkit import ConfigError, LLMCallError, ModelNotFoundError
from llmkit.engine import EngineConfig, EngineHandle
from llmkit.llm import Client

from ._http import request

CHAT = {"model": "llmkit-sim", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
def bare(make_engine: Callable[..., EngineHandle]) -> EngineHandle:
    return make_engine(dialect="bare")


def test_wire_format_of_the_bare_dialect(bare: EngineHandle) -> None:
    refused = request(
        bare,
        "/chat/completions",
        {**CHAT, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert refused.status == 400
    assert refused.json() == {"detail": "Extra inputs are not permitted: stream_options"}
    whole = request(bare, "/chat/completions", CHAT)
    assert whole.status == 200 and "usage" not in whole.json()
    streamed = request(bare, "/chat/completions", {**CHAT, "stream": True})
    assert streamed.status == 200 and streamed.chunks
    assert all("usage" not in c for c in streamed.chunks)
    missing = request(bare, "/chat/completions", {**CHAT, "model": "nope"})
    assert missing.status == 404 and set(missing.json()) == {"detail"}


def test_openai_dialect_is_unchanged(engine: EngineHandle) -> None:
    reply = request(
        engine,
        "/chat/completions",
        {**CHAT, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert reply.status == 200 and reply.chunks[-1]["usage"]["prompt_tokens"] > 0
    missing = request(engine, "/chat/completions", {**CHAT, "model": "nope"})
    assert set(missing.json()) == {"error"}
    with pytest.raises(ConfigError, match="dialect"):
        EngineConfig(dialect="vllm")


def test_client_copes_with_the_bare_dialect(bare: EngineHandle) -> None:
    with Client(bare.base_url, "k", "llmkit-sim") as client:
        first = client.chat("hello")  # streams: the 400 naming stream_options drops it
        assert first.text and first.timing.output_tokens > 0
        assert first.timing.token_source == "approximate"  # no usage: counted from the stream
        again = client.chat("hello again")
        assert again.text
        with pytest.raises(ModelNotFoundError, match="The model `nope` does not exist"):
            client.chat("hi", model="nope")  # the message comes from {"detail": ...}
        with pytest.raises(LLMCallError, match="max_tokens"):
            client.chat("hi", max_tokens=0)


@pytest.mark.slow
def test_eval_records_and_replays_against_the_bare_dialect(
    bare: EngineHandle, tmp_path: Path
) -> None:
    (tmp_path / "prompts").mkdir()
    suite = tmp_path / "prompts" / SUITE.name
    shutil.copy(SUITE, suite)
    suite.write_text(
        suite.read_text().replace(
            "min_pass_rate: 1.0\n",
            "min_pass_rate: 1.0\nprices:\n  llmkit-sim: {input: 1, output: 1}\n",
        )
    )
    # cases side by side: which of them meet the server's refusal of stream_options (a 400
    # in their cassettes) and which send the request without it depends on the run's
    # timing; replay (one case at a time, a fresh client) meets them in the suite's order.
    # Record and replay run as CI runs them, as two processes.
    record = [
        "eval",
        str(suite),
        "--mode",
        "record",
        "--concurrency",
        "4",
        "--base-url",
        bare.base_url,
    ]
    for args in (record, ["eval", str(suite), "--json"]):
        ran = subprocess.run(
            [sys.executable, "-m", "llmkit", *args], capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stderr
    cost = json.loads(ran.stdout)["cost"]
    assert cost["usd"] is None and "reported no prompt tokens" in cost["problem"]
