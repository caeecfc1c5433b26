"""Offline token counting in the client: never where the server reported usage, never on
the event loop's thread, never past the call's deadline (whitespace-free answers of tens of
KB took 12-15 s against ``Timeouts(total=3)`` when counting was quadratic and unbounded)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hostile import Hostile, ok_completion

from llmkit import AsyncClient, Client
from llmkit._tokens import count_tokens
from llmkit.llm import RetryPolicy, Timeouts, _stream

MakeHostile = Callable[..., Hostile]
LONG = "A" * 30_000  # one whitespace-free piece


def _chunks(text: str, pieces: int, usage: int | None) -> list[dict[str, Any]]:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    size = len(text) // pieces
    out = [
        {**base, "choices": [{"index": 0, "delta": {"content": text[i : i + size]},
                              "finish_reason": None}]}
        for i in range(0, len(text), size)
    ]  # fmt: skip
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        out.append(
            {**base, "choices": [],
             "usage": {"prompt_tokens": 1, "completion_tokens": usage, "total_tokens": usage + 1}}
        )  # fmt: skip
    return out


def _body(text: str, usage: bool) -> dict[str, Any]:
    body = ok_completion(text)
    if usage:
        body["usage"] = {"prompt_tokens": 1, "completion_tokens": 3750, "total_tokens": 3751}
    else:
        del body["usage"]
    return body


def _refuse_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("counted tokens the server had reported")

    monkeypatch.setattr(_stream, "count_tokens_within", refuse)


@pytest.mark.parametrize("stream", [False, True])
def test_nothing_is_counted_where_the_server_reported_usage(
    hostile: MakeHostile, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    _refuse_counting(monkeypatch)
    server = hostile("shape", body=_body(LONG, usage=True), chunks=_chunks(LONG, 6, 3750))
    with Client(base_url=server.base_url, model="m", timeouts=Timeouts(total=3)) as client:
        result = client.chat("hi", stream=False) if not stream else _drain(client)
    assert result.text == LONG
    assert result.timing.output_tokens == 3750 and result.timing.token_source == "server"
    assert sum(result.timing.chunk_tokens) == 3750  # spread over the chunks, not counted


def _drain(client: Client) -> Any:
    with client.stream("hi") as chunks:
        for _ in chunks:
            pass
    return chunks.result


@pytest.mark.parametrize("stream", [False, True])
def test_a_long_whitespace_free_answer_without_usage_is_counted_exactly(
    hostile: MakeHostile, stream: bool
) -> None:
    text = "A" * 100_000  # the rescanning merge needed minutes for this; the deadline is 3 s
    server = hostile("shape", body=_body(text, usage=False), chunks=_chunks(text, 10, None))
    with Client(
        base_url=server.base_url, model="m", timeouts=Timeouts(total=3), retry=RetryPolicy(1)
    ) as client:
        result = client.chat("hi", stream=False) if not stream else _drain(client)
    assert result.text == text
    assert result.timing.output_tokens == count_tokens(text) == 12_500
    assert result.timing.token_source == "approximate"


def test_the_async_client_counts_long_answers_off_the_event_loop(
    hostile: MakeHostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    original = _stream.count_tokens_within

    def spy(text: str, deadline: float | None) -> tuple[int, bool]:
        threads.append(threading.current_thread())
        return original(text, deadline)

    monkeypatch.setattr(_stream, "count_tokens_within", spy)
    server = hostile("shape", body=_body(LONG, usage=False))

    async def main() -> tuple[Any, threading.Thread]:
        async with AsyncClient(base_url=server.base_url, model="m") as client:
            return await client.chat("hi", stream=False), threading.current_thread()

    result, loop_thread = anyio.run(main)
    assert result.timing.output_tokens == 3750
    assert threads and all(t is not loop_thread for t in threads)


def test_counting_stops_at_the_deadline_with_an_estimate() -> None:
    """A count that would run past the call's deadline returns an estimate at once."""
    state = _stream.AttemptState(sent_ns=0)
    state.budget = type("B", (), {"deadline": 0.0})()  # long past
    n = state.count("A" * 2_000_000)
    assert n > 0 and state.count("A" * 2_000_000) == n  # estimated once, then remembered
