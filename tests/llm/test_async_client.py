"""The async client: same answers, retries, and cancellation that closes the connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

import llmkit
from llmkit.engine import Faults
from llmkit.llm import AsyncClient, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05)


def test_async_chat_and_retries(make_engine: Callable[..., Any]) -> None:
    eng = make_engine(faults=Faults(script=("429", "cut", "ok"), retry_after_s=0.0))

    async def main() -> llmkit.CallResult:
        async with AsyncClient(base_url=eng.base_url, model="llmkit-sim", retry=FAST_RETRY) as c:
            return await c.chat("Hello", max_tokens=8)

    result = asyncio.run(main())
    assert [a.error_type for a in result.attempts] == ["RateLimitError", "BadResponseError", None]
    assert result.text and result.timing.ttft_ms is not None


def test_async_stream_and_concurrency(engine: Any) -> None:
    async def main() -> list[str]:
        async with AsyncClient(base_url=engine.base_url, model="llmkit-sim") as c:

            async def one(i: int) -> str:
                parts = []
                async with c.stream(f"Hello number {i}", max_tokens=10) as stream:
                    async for delta in stream:
                        parts.append(delta)
                assert stream.result is not None
                return "".join(parts)

            return await asyncio.gather(*(one(i) for i in range(8)))

    texts = asyncio.run(main())
    assert len(texts) == 8 and all(texts)


@pytest.mark.slow
def test_cancelling_a_call_closes_its_stream(make_engine: Callable[..., Any]) -> None:
    eng = make_engine(decode_step_ms=50.0, send_log=True)

    async def main() -> None:
        async with AsyncClient(base_url=eng.base_url, model="llmkit-sim") as c:
            task = asyncio.create_task(c.chat("Tell me a story", max_tokens=200, ignore_eos=True))
            # cancel once the answer streams (the log says so), however late that is
            deadline = time.monotonic() + 30
            while not any(r.kind == "output" for r in eng.send_log()):
                assert time.monotonic() < deadline, "the answer never started"
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.5)

    asyncio.run(main())
    # The engine let the answer go once the client hung up: its batch empties long before
    # the 10 s the 200 tokens were paced to take (a poll that ends early, never a budget),
    # and the log never shows the answer finished.
    deadline = time.monotonic() + 5
    while eng.engine.scheduler.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not eng.engine.scheduler.running
    log = eng.send_log()
    assert 0 < sum(r.kind == "output" for r in log) < 200
    assert not any(r.kind == "done" for r in log)
