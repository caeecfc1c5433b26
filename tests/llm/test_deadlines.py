"""``Timeouts.total`` and ``Timeouts.stall`` hold whatever a server sends (issue 8).

Every hostile server here would keep the call going for ``duration`` (20 s); the deadline is
1 s. A client that only checks its clock when a chunk arrives runs the full 20 s (or forever,
on a server that never stops) and fails these tests. The bound checked is half the server's
run, wide enough for a busy machine and far from what a missing deadline gives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from hostile import Hostile

import llmkit
from llmkit.llm import AsyncClient, Client, RetryPolicy, Timeouts

MakeHostile = Callable[..., Hostile]
ONE_TRY = RetryPolicy(max_attempts=1)
SERVER_RUNS_S = 20.0
TOTAL_S = 1.0


def _call(
    url: str,
    *,
    mode: str,
    stream: bool,
    timeouts: Timeouts,
    retry: RetryPolicy,
    took: list[float],
) -> None:
    """One call in one of the four shapes (sync/async x stream/body); appends its seconds.

    Only the call is timed, not building the client: this machine is shared and busy.
    """
    if mode == "sync":
        with Client(base_url=url, model="m", timeouts=timeouts, retry=retry) as client:
            start = time.monotonic()
            try:
                client.chat("Hello", stream=stream)
            finally:
                took.append(time.monotonic() - start)
        return

    async def main() -> None:
        async with AsyncClient(base_url=url, model="m", timeouts=timeouts, retry=retry) as client:
            start = time.monotonic()
            try:
                await client.chat("Hello", stream=stream)
            finally:
                took.append(time.monotonic() - start)

    asyncio.run(main())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "body"])
@pytest.mark.parametrize("behaviour", ["comments", "trickle", "head_trickle"])
def test_total_deadline_holds_whatever_arrives(
    hostile: MakeHostile, mode: str, stream: bool, behaviour: str
) -> None:
    server = hostile(behaviour, interval=0.05, duration=SERVER_RUNS_S)
    took: list[float] = []
    with pytest.raises(llmkit.CallTimeoutError, match="total") as info:
        _call(
            server.base_url,
            mode=mode,
            stream=stream,
            timeouts=Timeouts(stall=30, read=30, total=TOTAL_S),
            retry=ONE_TRY,
            took=took,
        )
    elapsed = took[0]
    # The server would have gone on for 20 s; the call ended near its 1 s deadline.
    assert elapsed < SERVER_RUNS_S / 2, f"returned after {elapsed:.1f} s with total={TOTAL_S}"
    assert info.value.attempts == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_total_deadline_spans_retries(hostile: MakeHostile, mode: str) -> None:
    """Retries share one deadline: the second attempt gets what the first left, not more."""
    server = hostile("comments", interval=0.05, duration=SERVER_RUNS_S)
    took: list[float] = []
    with pytest.raises(llmkit.CallTimeoutError):
        _call(
            server.base_url,
            mode=mode,
            stream=True,
            timeouts=Timeouts(stall=0.4, total=TOTAL_S),
            retry=RetryPolicy(max_attempts=10, initial_wait=0.0),
            took=took,
        )
    assert took[0] < SERVER_RUNS_S / 2
    assert 2 <= server.requests < 10


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_comments_are_not_progress_for_the_stall_timer(hostile: MakeHostile, mode: str) -> None:
    server = hostile("chunk_then_comments", interval=0.05, duration=SERVER_RUNS_S)
    took: list[float] = []
    with pytest.raises(llmkit.CallTimeoutError, match="stall") as info:
        _call(
            server.base_url,
            mode=mode,
            stream=True,
            timeouts=Timeouts(stall=0.5, total=60),
            retry=ONE_TRY,
            took=took,
        )
    assert took[0] < SERVER_RUNS_S / 2
    assert "0.5 s" in str(info.value)


@pytest.mark.slow
def test_sync_stream_iteration_is_bounded_too(hostile: MakeHostile) -> None:
    """``Client.stream``: the deadline holds while the caller iterates, not only in ``chat``.

    Text already reached the caller, so the call ends as a (not retried) interrupted stream
    that names the deadline.
    """
    server = hostile("chunk_then_comments", interval=0.05, duration=SERVER_RUNS_S)
    start = time.monotonic()
    got: list[str] = []
    with Client(
        base_url=server.base_url, model="m", timeouts=Timeouts(total=TOTAL_S), retry=ONE_TRY
    ) as client:
        with pytest.raises(llmkit.StreamInterruptedError, match="total"):
            with client.stream("Hello") as stream:
                got.extend(stream)
    assert got == ["first "]
    assert time.monotonic() - start < SERVER_RUNS_S / 2
