"""How much the benchmark client itself costs, and how exact its timestamps are.

Runs ``llmkit serve`` in a subprocess (so the engine and the client do not share a core)
with one token per SSE event, and prints three figures against the goals of issue 4:

1. events consumed per second on one core (client CPU time of the measured path; the
   parsing done after the run is shown separately) against the engine at zero delay,
   goal >= 100k events/s, and the whole-run client CPU per streamed token (measuring +
   parsing; vLLM's benchmark client spends 5.2-5.6 us on the same server);
2. concurrent streams held at once, goal >= 512;
3. timestamp error against the engine's logged send times at 256 streams of 50 tokens/s
   each, goal <= 1 ms at p99.

Printed figures, not CI gates: a shared 2-core machine is noisy. Usage::

    python benchmarks/harness_overhead.py [--quick] [--pin]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from llmkit.bench._client import RawResponse, make_session, request_body
from llmkit.bench._load import LevelPlan, monitor_loop_lag, run_level
from llmkit.bench._metrics import describe
from llmkit.bench._records import build_record, make_counter
from llmkit.engine import EngineConfig, read_send_log, start_engine_process

_PIN = False


def _pin(pid: int) -> None:
    """With --pin: the engine on CPU 1, this client on CPU 0 (never the same core)."""
    if _PIN and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {1})
        os.sched_setaffinity(0, {0})


def _bodies(model: str, max_tokens: int) -> Any:
    body = request_body(
        model=model,
        messages=[{"role": "user", "content": "Tell me a long story."}],
        max_tokens=max_tokens,
        stream=True,
        continuous_usage=True,
        ignore_eos=True,
        temperature=None,
        seed=None,
    )
    payload = json.dumps(body).encode()
    return lambda i: (payload, None)


async def _level(
    base_url: str, concurrency: int, requests: int, max_tokens: int, stall_s: float = 60.0
) -> tuple[list[RawResponse], float, float, list[float]]:
    plan = LevelPlan(
        "concurrency", float(concurrency), requests, None, timeout_s=120, stall_timeout_s=stall_s
    )
    lag: list[float] = []
    stop, lag_stop = asyncio.Event(), asyncio.Event()
    async with make_session(connect_timeout_s=10, limit=concurrency) as session:
        monitor = asyncio.create_task(monitor_loop_lag(lag, lag_stop))
        cpu0, t0 = time.process_time(), time.perf_counter()
        _, raws = await run_level(
            session,
            base_url + "/chat/completions",
            plan,
            _bodies("llmkit-sim", max_tokens),
            stop=stop,
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        lag_stop.set()
        await monitor
    return raws, wall, cpu, lag


def _records(raws: list[RawResponse]) -> tuple[list[Any], float]:
    count = make_counter()
    t0 = time.process_time()
    recs = [build_record(r, level=0, stream=True, count=count) for r in raws]
    return recs, time.process_time() - t0


def throughput(quick: bool) -> None:
    conc, n, tokens = (16, 32, 1000) if quick else (32, 64, 2000)
    with start_engine_process(EngineConfig.zero_delay(max_batch=4096)) as eng:
        _pin(eng.pid)
        asyncio.run(_level(eng.base_url, 4, 4, 50))  # warm the connection pool and caches
        raws, wall, cpu, _ = asyncio.run(_level(eng.base_url, conc, n, tokens))
    recs, post_cpu = _records(raws)
    ok = [r for r in recs if r.ok]
    # every SSE event: role chunk, one per token, usage chunk, [DONE]
    events = sum(r.chunks + 3 for r in ok)
    reads = sum(len(r.times) + len(r.feed_times) for r in raws)
    print("1. throughput against llmkit serve at zero delay (1 token per SSE event)")
    print(
        f"   {len(ok)}/{len(raws)} streams ok, {events:,} events in {reads:,} reads, {wall:.2f} s"
    )
    print(f"   wall rate: {events / wall:,.0f} events/s (engine-bound when client CPU < 100%)")
    print(f"   client CPU during the run: {cpu:.2f} s ({100 * cpu / wall:.0f}% of a core)")
    print(f"   measured path: {events / cpu:,.0f} events per client CPU-second  [goal >= 100k]")
    print(f"   post-run parsing: {post_cpu:.2f} s ({events / post_cpu:,.0f} events/s); "
          f"with it: {events / (cpu + post_cpu):,.0f} events per CPU-second")  # fmt: skip
    tokens = sum(r.output_tokens for r in ok)
    run_us, post_us = 1e6 * cpu / tokens, 1e6 * post_cpu / tokens
    print(
        f"   whole-run client CPU per streamed token: {run_us:.2f} us measuring + "
        f"{post_us:.2f} us parsing = {run_us + post_us:.2f} us  [vLLM's client: 5.2-5.6 us]"
    )


def concurrent(quick: bool) -> None:
    streams = 512
    cfg = EngineConfig.slow(20.0, max_batch=1024)
    with start_engine_process(cfg) as eng:
        _pin(eng.pid)
        raws, wall, cpu, lag = asyncio.run(_level(eng.base_url, streams, streams, 20))
    recs, _ = _records(raws)
    edges = sorted([(r.sent_ns, 1) for r in raws] + [(r.end_ns or 0, -1) for r in raws])
    peak = cur = 0
    for _, d in edges:
        cur += d
        peak = max(peak, cur)
    ok = sum(1 for r in recs if r.ok)
    lag_p99 = describe(lag)["p99"] or 0.0
    print(f"2. concurrency: {ok}/{streams} streams ok, {peak} in flight at once  [goal >= 512]")
    print(f"   {wall:.2f} s, client CPU {100 * cpu / wall:.0f}%, loop lag p99 {lag_p99:.2f} ms")


def timestamp_error(quick: bool) -> None:
    streams, tokens = 256, (50 if quick else 100)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "send.jsonl"
        cfg = EngineConfig.slow(50.0, max_batch=1024, send_log_path=log_path)
        with start_engine_process(cfg) as eng:
            _pin(eng.pid)
            raws, wall, cpu, lag = asyncio.run(_level(eng.base_url, streams, streams, tokens))
            eng.stop()  # flushes the JSONL send log (it is written lazily)
        sent = read_send_log(log_path)
    by_id: dict[str, list[int]] = defaultdict(list)
    for s in sent:
        if s.kind == "output":
            by_id[s.response_id].append(s.t_ns)
    recs, _ = _records(raws)
    errors: list[float] = []
    first: list[float] = []
    unmatched = 0
    for r in recs:
        if not r.ok or r.timing is None or r.response_id not in by_id:
            unmatched += 1
            continue
        got, want = r.timing.chunk_times_ns, by_id[r.response_id]
        if len(got) != len(want):
            unmatched += 1
            continue
        errors.extend((g - w) / 1e6 for g, w in zip(got, want, strict=True))
        first.append((got[0] - want[0]) / 1e6)
    d = describe(errors)
    f = describe(first)
    lag_d = describe(lag)
    print(f"3. timestamp error at {streams} streams x 50 tokens/s ({len(errors):,} events, "
          f"{unmatched} streams unmatched)")  # fmt: skip
    print(f"   receive - send: p50 {d['p50']:.3f} ms, p99 {d['p99']:.3f} ms, "
          f"max {d['max']:.3f} ms  [goal p99 <= 1 ms]")  # fmt: skip
    print(f"   first output chunk of each stream: p50 {f['p50']:.3f} ms, p99 {f['p99']:.3f} ms")
    print(f"   client CPU {100 * cpu / wall:.0f}%, loop lag p50 {lag_d['p50']:.2f} ms, "
          f"p99 {lag_d['p99']:.2f} ms")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    ap.add_argument("--pin", action="store_true", help="engine on CPU 1, client on CPU 0")
    args = ap.parse_args()
    global _PIN
    _PIN = args.pin
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    throughput(args.quick)
    concurrent(args.quick)
    timestamp_error(args.quick)


if __name__ == "__main__":
    main()
