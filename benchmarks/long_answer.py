"""A whitespace-free answer of N KB against ``Timeouts(total=3)``: call time and loop stall.

Run: ``python benchmarks/long_answer.py [--kb 30] [--usage]``

A local server answers with one letter repeated N KB (one JSON body, or 10 SSE chunks),
with or without a usage figure; each call gets its own letter, so no cache helps. For the sync and async clients, body and stream,
it prints the call's wall time, the token count and its source, and for the async client
the longest the event loop went without running a 1 ms ticker task beside the call.
Quadratic counting made the 30 KB calls take 11.9-14.5 s and stall the loop 5.7-6.1 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio

from llmkit import AsyncClient, Client
from llmkit.llm import RetryPolicy, Timeouts


def serve(text: str, usage: bool) -> ThreadingHTTPServer:
    base = {"id": "c", "created": 1, "model": "m"}
    tokens = {"prompt_tokens": 1, "completion_tokens": len(text) // 8, "total_tokens": 1}
    body: dict[str, Any] = {
        **base,
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
    }
    size = max(1, len(text) // 10)
    chunks: list[dict[str, Any]] = [
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [
                {"index": 0, "delta": {"content": text[i : i + size]}, "finish_reason": None}
            ],
        }
        for i in range(0, len(text), size)
    ]
    chunks.append(
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    if usage:
        body["usage"] = tokens
        chunks.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": tokens})
    plain = json.dumps(body).encode()
    sse = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    sse += b"data: [DONE]\n\n"  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            stream = json.loads(self.rfile.read(int(self.headers["Content-Length"]))).get("stream")
            data = sse if stream else plain
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sync_call(url: str, stream: bool) -> Any:
    with Client(url, model="m", timeouts=Timeouts(total=3), retry=RetryPolicy(1)) as client:
        if not stream:
            return client.chat("hi", stream=False)
        with client.stream("hi") as chunks:
            for _ in chunks:
                pass
        return chunks.result


async def async_call(url: str, stream: bool) -> tuple[Any, float]:
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while True:
            await anyio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    async with AsyncClient(url, model="m", timeouts=Timeouts(total=3), retry=RetryPolicy(1)) as c:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            result = await c.chat("hi", stream=stream)
            await anyio.sleep(0.01)  # let the ticker see a stall that ended with the call
            tg.cancel_scope.cancel()
    return result, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=30)
    parser.add_argument("--usage", action="store_true", help="the server reports usage")
    args = parser.parse_args()
    print(f"{args.kb} KB whitespace-free answer, usage {'sent' if args.usage else 'absent'}")
    names = ("sync body", "sync stream", "async body", "async stream")
    for letter, name in zip("ABCD", names, strict=True):
        server = serve(letter * (args.kb * 1000), args.usage)
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        stream = name.endswith("stream")
        start = time.perf_counter()
        try:
            if name.startswith("sync"):
                result, stall = sync_call(url, stream), None
            else:
                result, stall = anyio.run(async_call, url, stream)
            outcome = f"{result.timing.output_tokens} tokens ({result.timing.token_source})"
        except Exception as exc:  # report, go on with the next
            outcome, stall = f"{type(exc).__name__}: {exc}", None
        took = time.perf_counter() - start
        lag = "" if stall is None else f", loop stalled at most {stall * 1000:.0f} ms"
        print(f"  {name:<13} {took:6.2f} s  {outcome}{lag}")
        sys.stdout.flush()
        server.shutdown()


if __name__ == "__main__":
    main()
