"""How fast ``llmkit serve`` streams at zero delay, one token per SSE event.

Starts the engine in a subprocess (so client and server use separate cores), consumes
streams with a minimal raw aiohttp SSE reader, and prints events (tokens) per second for
1 and several concurrent streams, plus the server's own CPU time per token, read from
``/proc`` (tokens per server CPU-second is the "from one core" figure).

    python benchmarks/engine_throughput.py [--tokens 2000] [--requests 40] [--concurrency 1,8,64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import aiohttp

from llmkit.engine import EngineConfig, start_engine_process

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def one_stream(session: aiohttp.ClientSession, url: str, tokens: int) -> int:
    """Stream one answer; returns the number of content events seen."""
    body = {
        "model": "llmkit-sim",
        "messages": [{"role": "user", "content": "Tell me about latency."}],
        "stream": True,
        "max_tokens": tokens,
        "ignore_eos": True,
    }
    events = 0
    buf = b""
    async with session.post(url, json=body) as resp:
        resp.raise_for_status()
        async for data in resp.content.iter_any():
            buf += data
            parts = buf.split(b"\n\n")
            buf = parts.pop()
            for ev in parts:
                if ev.startswith(b"data: {") and b'"content":"' in ev and b'"content":""' not in ev:
                    events += 1
    return events


async def level(url: str, concurrency: int, requests: int, tokens: int) -> tuple[int, float]:
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        queue = list(range(requests))

        async def worker() -> int:
            n = 0
            while queue:
                queue.pop()
                n += await one_stream(session, url, tokens)
            return n

        t0 = time.perf_counter()
        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sum(counts), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=2000, help="tokens per stream")
    ap.add_argument("--requests", type=int, default=200, help="streams per level")
    ap.add_argument("--concurrency", default="1,8,64", help="comma-separated levels")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with start_engine_process(EngineConfig.zero_delay()) as server:
        url = server.base_url + "/chat/completions"
        asyncio.run(level(url, 1, 2, 50))  # warm up
        print(
            f"engine at {server.base_url} (zero delay, 1 token per SSE event, {args.tokens} tokens/stream)"
        )
        print(
            f"{'streams':>8} {'events':>9} {'wall s':>7} {'events/s':>10} {'server CPU s':>13} {'events/server-CPU-s':>20}"
        )
        for c in levels:
            cpu0 = cpu_seconds(server.pid)
            n, wall = asyncio.run(level(url, c, max(args.requests, c), args.tokens))
            cpu = cpu_seconds(server.pid) - cpu0
            per_cpu = n / cpu if cpu > 0 else float("inf")
            print(f"{c:>8} {n:>9} {wall:>7.2f} {n / wall:>10,.0f} {cpu:>13.2f} {per_cpu:>20,.0f}")


if __name__ == "__main__":
    main()
