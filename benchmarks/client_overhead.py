"""The model client's own overhead per streamed token, against ``llmkit serve`` at zero delay.

Three readers consume the same streams (one token per SSE event) from an engine running in
a subprocess, measured side by side in one run:

* ``raw``: aiohttp reading bytes and splitting SSE events (the floor),
* ``sdk``: the openai SDK's streaming iterator (what any SDK user pays),
* ``llmkit``: ``llmkit.Client.stream`` (SDK + timing + reasoning split + retry bookkeeping).

It prints µs per token for each and llmkit's overhead over the bare SDK.

    python benchmarks/client_overhead.py [--tokens 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import aiohttp
import openai

from llmkit.engine import EngineConfig, start_engine_process
from llmkit.llm import Client

PROMPT = [{"role": "user", "content": "Tell me about latency."}]


def raw_reader(base_url: str, tokens: int) -> int:
    async def run() -> int:
        body = {
            "model": "llmkit-sim",
            "messages": PROMPT,
            "stream": True,
            "max_tokens": tokens,
            "ignore_eos": True,
        }
        events = 0
        buf = b""
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base_url}/chat/completions", json=body) as resp,
        ):
            async for data in resp.content.iter_any():
                buf += data
                *done, buf = buf.split(b"\n\n")
                events += sum(1 for ev in done if b'"content":"' in ev)
        return events

    return asyncio.run(run())


def sdk_reader(base_url: str, tokens: int) -> int:
    sdk = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
    stream = sdk.chat.completions.create(
        model="llmkit-sim",
        messages=PROMPT,  # type: ignore[arg-type]
        stream=True,
        max_tokens=tokens,
        extra_body={"ignore_eos": True},
    )
    n = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            n += 1
    sdk.close()
    return n


def llmkit_reader(base_url: str, tokens: int) -> int:
    with Client(base_url=base_url, model="llmkit-sim") as client:
        stream = client.stream(PROMPT, max_tokens=tokens, ignore_eos=True)
        n = sum(1 for _ in stream)
        assert stream.result is not None and stream.result.timing.output_tokens == tokens
    return n


def measure(reader: Callable[[str, int], int], base_url: str, tokens: int, repeats: int) -> float:
    """Median µs per token over ``repeats`` streams."""
    per_token = []
    for _ in range(repeats):
        start = time.perf_counter()
        n = reader(base_url, tokens)
        per_token.append((time.perf_counter() - start) / max(n, 1) * 1e6)
    return statistics.median(per_token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    engine = start_engine_process(EngineConfig.zero_delay())
    try:
        readers = {"raw": raw_reader, "sdk": sdk_reader, "llmkit": llmkit_reader}
        for reader in readers.values():  # warm up imports, connections, token caches
            reader(engine.base_url, 50)
        results = {
            name: measure(r, engine.base_url, args.tokens, args.repeats)
            for name, r in readers.items()
        }
    finally:
        engine.stop()
    print(f"{args.tokens} tokens per stream, one token per SSE event, median of {args.repeats}")
    for name, us in results.items():
        print(f"  {name:7s} {us:7.1f} µs/token  ({1e6 / us:9,.0f} tokens/s)")
    overhead = results["llmkit"] - results["sdk"]
    print(
        f"llmkit over the bare SDK: {overhead:+.1f} µs/token ({results['llmkit'] / results['sdk']:.2f}×)"
    )


if __name__ == "__main__":
    main()
