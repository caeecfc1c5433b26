"""Coalescing a recorded stream for replay: the same answer in one chunk, or left as it was."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from llmkit.evals._cassettes import coalesce_sse


def _stream(pieces: list[str], usage: bool = True) -> str:
    head = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    events = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**head, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    events.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage:
        events.append({**head, "choices": [], "usage": {"completion_tokens": len(pieces)}})
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


def _answer(body: str) -> tuple[str, object, object]:
    text, finish, usage = "", None, None
    for event in body.split("\n\n"):
        if not event.startswith("data: ") or event == "data: [DONE]":
            continue
        obj = json.loads(event[6:])
        for choice in obj["choices"]:
            text += choice["delta"].get("content") or ""
            finish = choice.get("finish_reason") or finish
        usage = obj.get("usage") or usage
    return text, finish, usage


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=30), st.booleans())
def test_coalesced_stream_carries_the_same_answer(pieces: list[str], usage: bool) -> None:
    body = _stream(pieces, usage)
    merged = coalesce_sse(body)
    assert _answer(merged) == _answer(body)
    assert merged.count("data: ") <= 3


def test_unusual_streams_are_left_as_recorded() -> None:
    good = _stream(["a", "b", "c"])
    two_values = good.replace('data: {"id"', 'data: 1, {"id"', 1)
    not_json = good.replace('"content": "b"', '"content": b', 1)
    bad_delta = good.replace('"delta": {"content": "a"}', '"delta": "a"', 1)
    tool = good.replace('"delta": {"content": "a"}', '"delta": {"tool_calls": []}', 1)
    for body in (two_values, not_json, bad_delta, tool):
        assert coalesce_sse(body) == body
