"""Load patterns: closed-loop concurrency and open-loop arrivals (Poisson or gamma).

Each request gets a *scheduled* send time from the pattern and an *actual* one from the
client; their difference is visible per request (``send_lag_ms``), so client-side
queueing, the root of coordinated omission, shows instead of hiding in the latencies.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

import aiohttp

from llmkit.bench._client import RawResponse, send_request
from llmkit.bench._config import DEFAULT_MAX_RESPONSE_BYTES

__all__ = ["LevelPlan", "arrival_offsets", "monitor_loop_lag", "run_level"]

_NS = 1_000_000_000


def arrival_offsets(
    rate: float, *, burstiness: float = 1.0, ramp_up_s: float = 0.0, seed: int = 0
) -> Iterator[float]:
    """Endless send-time offsets (seconds from the level start) for a mean ``rate``/s.

    Gaps are gamma-distributed with shape ``burstiness`` and mean ``1/rate``: shape 1 is
    a Poisson process, lower is burstier, higher more regular. During ``ramp_up_s`` the
    rate grows linearly from 5% to the full rate.
    """
    rng = random.Random(seed)
    t = 0.0
    while True:
        yield t
        r = rate
        if ramp_up_s > 0 and t < ramp_up_s:
            r = rate * max(t / ramp_up_s, 0.05)
        t += rng.gammavariate(burstiness, 1.0 / (r * burstiness))


@dataclass(frozen=True)
class LevelPlan:
    """How one level sends: the pattern, how many requests or how long, the limits."""

    mode: str
    value: float
    requests: int | None
    duration_s: float | None
    ramp_up_s: float = 0.0
    burstiness: float = 1.0
    max_concurrency: int | None = None
    seed: int = 0
    stream: bool = True
    timeout_s: float = 300.0
    stall_timeout_s: float = 60.0
    warmup: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


async def monitor_loop_lag(
    samples: list[float], stop: asyncio.Event, period_s: float = 0.01
) -> None:
    """Sample how late a short timer fires: the event loop's own scheduling lag, in ms."""
    period_ns = int(period_s * _NS)
    while not stop.is_set():
        t0 = perf_counter_ns()
        await asyncio.sleep(period_s)
        samples.append(max(0, perf_counter_ns() - t0 - period_ns) / 1e6)


async def run_level(
    session: aiohttp.ClientSession,
    url: str,
    plan: LevelPlan,
    body: Callable[[int], tuple[bytes, int | None]],
    *,
    stop: asyncio.Event,
    on_done: Callable[[RawResponse], None] | None = None,
) -> tuple[int, list[RawResponse]]:
    """Run one level; returns its start time and every request's raw record.

    ``body(i)`` gives request ``i``'s serialized body (pre-built, so cheap) and its
    prompt tokens. ``stop`` ends the level early (Ctrl-C): nothing new is sent and the
    caller cancels what is in flight.
    """
    raws: list[RawResponse] = []
    start = perf_counter_ns()
    deadline = start + int(plan.duration_s * _NS) if plan.duration_s is not None else None

    async def one(raw: RawResponse, payload: bytes) -> None:
        await send_request(
            session,
            url,
            payload,
            raw,
            stream=plan.stream,
            timeout_s=plan.timeout_s,
            stall_timeout_s=plan.stall_timeout_s,
            max_response_bytes=plan.max_response_bytes,
        )
        if on_done is not None:
            on_done(raw)

    if plan.mode == "concurrency":
        workers = max(1, int(plan.value))
        counter = iter(range(1 << 62))

        async def worker(w: int) -> None:
            if plan.ramp_up_s > 0 and w:
                await asyncio.sleep(plan.ramp_up_s * w / workers)
            while not stop.is_set():
                now = perf_counter_ns()
                if deadline is not None and now >= deadline:
                    return
                i = next(counter)
                if plan.requests is not None and i >= plan.requests:
                    return
                payload, tokens = body(i)
                # Closed loop: a request is due the moment its worker is free.
                raw = RawResponse(index=i, scheduled_ns=perf_counter_ns(), warmup=plan.warmup)
                raw.prompt_tokens_sent = tokens
                raws.append(raw)
                await one(raw, payload)

        tasks = [asyncio.create_task(worker(w)) for w in range(workers)]
        await _wait_all(tasks, stop)
        return start, raws

    sem = asyncio.Semaphore(plan.max_concurrency) if plan.max_concurrency else None

    async def limited(raw: RawResponse, payload: bytes) -> None:
        if sem is None:
            await one(raw, payload)
            return
        try:
            async with sem:
                await one(raw, payload)
        except asyncio.CancelledError:  # cancelled while waiting for a slot
            raw.sent_ns = raw.sent_ns or perf_counter_ns()
            raw.end_ns = raw.sent_ns
            raw.error, raw.error_detail = "interrupted", "cancelled before it was sent"

    pending: set[asyncio.Task[None]] = set()
    stopper = asyncio.ensure_future(stop.wait())
    offsets = arrival_offsets(
        plan.value, burstiness=plan.burstiness, ramp_up_s=plan.ramp_up_s, seed=plan.seed
    )
    try:
        for i, offset in enumerate(offsets):
            if stop.is_set() or (plan.requests is not None and i >= plan.requests):
                break
            due = start + int(offset * _NS)
            if deadline is not None and due >= deadline:
                break
            payload, tokens = body(i)
            delay = (due - perf_counter_ns()) / _NS
            if delay > 0:
                await asyncio.wait({stopper}, timeout=delay)  # a Ctrl-C wakes it at once
            if stop.is_set():
                break
            raw = RawResponse(index=i, scheduled_ns=due, warmup=plan.warmup)
            raw.prompt_tokens_sent = tokens
            raws.append(raw)
            task = asyncio.create_task(limited(raw, payload))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        stopper.cancel()
    await _wait_all(list(pending), stop)
    return start, raws


async def _wait_all(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Wait for ``tasks``; when ``stop`` is set, cancel them (they record themselves)."""
    if not tasks:
        return
    everything: asyncio.Future[Any] = asyncio.gather(*tasks, return_exceptions=True)
    stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({everything, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not everything.done():
            for t in tasks:
                t.cancel()
            await everything
    finally:
        stopper.cancel()
