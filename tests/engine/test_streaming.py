"""Streaming format, exact token counts, UTF-8-safe chunks, seeded determinism."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from llmkit._tokens import count_tokens
from llmkit.engine import EngineHandle

from ._http import Reply, chat, request


def _stream(engine: EngineHandle, content: str = "hello", **fields: Any) -> Reply:
    reply = request(engine, "/chat/completions", chat(engine, content, stream=True, **fields))
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("text/event-stream")
    return reply


def _text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_stream_shape_role_text_usage_done(engine: EngineHandle) -> None:
    reply = _stream(engine, stream_options={"include_usage": True})
    assert reply.events[-1] == "[DONE]"
    chunks = reply.chunks
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["object"] == "chat.completion.chunk"
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    text = _text(chunks)
    assert usage_chunk["usage"]["completion_tokens"] == count_tokens(text)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-2])
    # one token per event by default
    assert len(chunks) - 2 == count_tokens(text)


def test_no_usage_chunk_unless_asked(engine: EngineHandle) -> None:
    chunks = _stream(engine).chunks
    assert all(c["choices"] for c in chunks) and "usage" not in chunks[-1]


def test_continuous_usage_counts_so_far(engine: EngineHandle) -> None:
    chunks = _stream(
        engine, stream_options={"include_usage": True, "continuous_usage_stats": True}
    ).chunks
    counts = [c["usage"]["completion_tokens"] for c in chunks]
    assert counts[0] == 0 and counts == sorted(counts)
    assert counts[-1] == counts[-2] == count_tokens(_text(chunks))
    assert all(
        c["usage"]["total_tokens"] == c["usage"]["prompt_tokens"] + n
        for c, n in zip(chunks, counts, strict=True)
    )


def test_no_role_chunk_and_tokens_per_chunk(make_engine: Any) -> None:
    eng = make_engine(role_chunk=False, tokens_per_chunk=4)
    chunks = _stream(eng, stream_options={"continuous_usage_stats": True}).chunks
    assert "role" not in chunks[0]["choices"][0]["delta"]
    steps = [
        b["usage"]["completion_tokens"] - a["usage"]["completion_tokens"]
        for a, b in itertools.pairwise(chunks)
    ]
    assert chunks[0]["usage"]["completion_tokens"] == 4
    assert all(s == 4 for s in steps[:-2])  # the last text chunk may be shorter


@pytest.mark.parametrize("max_tokens", [1, 7, 40])
def test_max_tokens_is_exact(engine: EngineHandle, max_tokens: int) -> None:
    chunks = _stream(
        engine, "tell me something", max_tokens=max_tokens, stream_options={"include_usage": True}
    ).chunks
    assert chunks[-1]["usage"]["completion_tokens"] == max_tokens
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert count_tokens(_text(chunks)) == max_tokens


@pytest.mark.parametrize("max_tokens", [3, 500, 1234])
def test_ignore_eos_generates_exactly_max_tokens(engine: EngineHandle, max_tokens: int) -> None:
    body = chat(engine, "hello", max_completion_tokens=max_tokens, ignore_eos=True)
    data = request(engine, "/chat/completions", body).json()
    assert data["usage"]["completion_tokens"] == max_tokens
    assert data["choices"][0]["finish_reason"] == "length"
    assert count_tokens(data["choices"][0]["message"]["content"]) == max_tokens
    chunks = _stream(
        engine,
        "hello",
        max_tokens=max_tokens,
        ignore_eos=True,
        stream_options={"include_usage": True},
    ).chunks
    assert chunks[-1]["usage"]["completion_tokens"] == max_tokens
    assert len(chunks) - 2 == max_tokens  # role + one event per token + usage


def test_openai_sdk_streams_usage(engine: EngineHandle) -> None:
    client = openai.OpenAI(base_url=engine.base_url, api_key="x", max_retries=0)
    stream = client.chat.completions.create(
        model="llmkit-sim",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        max_tokens=5,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_chunks_never_split_a_utf8_character(make_engine: Any, tmp_path: Path) -> None:
    scenario = tmp_path / "emoji.yaml"
    scenario.write_text(
        yaml.safe_dump({"rules": [{"answers": ["Party 🎉🎊 time: 日本語のテキスト 🧑‍💻 done"]}]})
    )
    eng = make_engine(scenario=scenario)
    chunks = _stream(eng, stream_options={"continuous_usage_stats": True}).chunks
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:] if c["choices"]]
    assert "".join(pieces) == "Party 🎉🎊 time: 日本語のテキスト 🧑‍💻 done"
    assert all("\ufffd" not in p for p in pieces)
    assert chunks[-1]["usage"]["completion_tokens"] == count_tokens("".join(pieces))


def test_reasoning_content_field_by_model(make_engine: Any) -> None:
    eng = make_engine(aliases=("llmkit-sim-reasoning",))
    body = {
        "model": "llmkit-sim-reasoning",
        "messages": [{"role": "user", "content": "why?"}],
        "stream": True,
    }
    chunks = request(eng, "/chat/completions", body).chunks
    kinds = ["r" if "reasoning_content" in c["choices"][0]["delta"] else "c" for c in chunks[1:]]
    assert kinds[0] == "r" and kinds[-1] == "c" and "".join(kinds).count("rc") == 1
    log = [r.kind for r in eng.send_log() if r.kind in ("reasoning", "output")]
    assert log[0] == "reasoning" and log[-1] == "output"
    plain = request(eng, "/chat/completions", {**body, "stream": False}).json()
    assert plain["choices"][0]["message"]["reasoning_content"]
    assert plain["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_think_block_before_the_answer(engine: EngineHandle) -> None:
    text = request(engine, "/chat/completions", chat(engine, "Think step by step: 2+2?")).json()
    content = text["choices"][0]["message"]["content"]
    assert content.startswith("<think>\n") and "</think>\n\n" in content


def test_structured_answers_parse(engine: EngineHandle) -> None:
    y = request(engine, "/chat/completions", chat(engine, "Extract the ticket as YAML.")).json()
    data = yaml.safe_load(y["choices"][0]["message"]["content"])
    assert data["priority"] in ("low", "medium", "high") and data["order_id"].startswith("ORD-")
    assert isinstance(data["address"], dict) and isinstance(data["tags"], list)
    j = request(engine, "/chat/completions", chat(engine, "Return the ticket as JSON.")).json()
    data = json.loads(j["choices"][0]["message"]["content"])
    assert set(data) >= {"title", "priority", "customer", "order_id", "tags", "address"}


def _answers(eng: EngineHandle, prompts: list[str], parallel: bool) -> dict[str, str]:
    def one(p: str) -> str:
        return str(
            request(eng, "/chat/completions", chat(eng, p)).json()["choices"][0]["message"][
                "content"
            ]
        )

    if not parallel:
        return {p: one(p) for p in prompts}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return dict(zip(prompts, pool.map(one, prompts), strict=True))


def test_answers_depend_on_content_and_seed_not_arrival_order(make_engine: Any) -> None:
    prompts = [
        f"question number {i} as YAML" if i % 2 else f"question number {i}" for i in range(12)
    ]
    a = _answers(make_engine(seed=7), prompts, parallel=False)
    b = _answers(make_engine(seed=7), list(reversed(prompts)), parallel=True)
    assert a == b
    c = _answers(make_engine(seed=8), prompts, parallel=False)
    assert c != a
    assert len(set(a.values())) > 6  # prompts do get different answers
