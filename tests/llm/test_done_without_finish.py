"""A stream that sends ``[DONE]`` but no ``finish_reason`` is complete, its finish reason
unknown (as the SDK takes it); one that just stops is still a cut stream. Before, the
first was taken for a cut too: 4 attempts, then ``BadResponseError``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hostile import Hostile, sse

import llmkit
from llmkit import AsyncClient, Client
from llmkit.llm import RetryPolicy

MakeHostile = Callable[..., Hostile]


def _no_finish(text: str) -> list[dict[str, Any]]:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return [
        {**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
        for w in text.split(" ")
    ]


def _sync(url: str) -> Any:
    with Client(url, model="m", retry=RetryPolicy(2, initial_wait=0)) as client:
        with client.stream("hi") as chunks:
            text = "".join(chunks)
        return text, chunks.result


def _async(url: str) -> Any:
    async def main() -> Any:
        async with AsyncClient(url, model="m", retry=RetryPolicy(2, initial_wait=0)) as client:
            result = await client.chat("hi")
            return result.text, result

    return anyio.run(main)


@pytest.mark.parametrize("call", [_sync, _async])
def test_done_without_a_finish_reason_is_a_complete_answer(
    hostile: MakeHostile, call: Callable[[str], Any]
) -> None:
    server = hostile("shape", chunks=_no_finish("all of it"))
    text, result = call(server.base_url)
    assert text == "allofit" and result.text == "allofit"
    assert result.finish_reason is None
    assert server.requests == 1


@pytest.mark.parametrize("call", [_sync, _async])
def test_a_stream_without_done_or_finish_reason_is_still_cut(
    hostile: MakeHostile, call: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = hostile("shape", chunks=_no_finish("half"))
    # the same events, without the closing [DONE]
    monkeypatch.setattr(
        "hostile.sse", lambda chunks: sse(chunks)[: -len(b"data: [DONE]\n\n")], raising=True
    )
    with pytest.raises(llmkit.LLMCallError, match="ended before the answer finished"):
        call(server.base_url)
    # a stream whose text reached the caller is not retried; a whole answer is
    assert server.requests == (1 if call is _sync else 2)
