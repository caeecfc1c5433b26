"""``Client(max_response_bytes=…)``: bodies over the cap, decompressed size included, fail
with a clear error as they arrive (a 200 KB gzip body inflating to 200 MB raised a raw
``MemoryError`` at 5.8 GB), and gzip bodies under it decode as before."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from hostile import Hostile, ok_completion, sse

import llmkit
from llmkit import AsyncClient, Client
from llmkit.llm import RetryPolicy


def _gzip(parts: Iterator[bytes]) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(z.compress(p) for p in parts) + z.flush()


def _bomb_parts() -> Iterator[bytes]:
    """A JSON body of 40 MB whose text is all one letter: a gzip body of ~40 KB."""
    yield b'{"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "x": "'
    for _ in range(40):
        yield b"A" * 1_000_000
    yield b'", "choices": []}'


@pytest.fixture
def server(hostile: Callable[..., Hostile]) -> Hostile:
    return hostile("raw")


def _sync(server: Hostile, stream: bool, **kwargs: Any) -> Any:
    with Client(server.base_url, model="m", retry=RetryPolicy(4), **kwargs) as client:
        if not stream:
            return client.chat("hi", stream=False)
        with client.stream("hi") as chunks:
            for _ in chunks:
                pass
        return chunks.result


def _async(server: Hostile, stream: bool, **kwargs: Any) -> Any:
    async def main() -> Any:
        async with AsyncClient(server.base_url, model="m", retry=RetryPolicy(4), **kwargs) as c:
            return await c.chat("hi", stream=stream)

    return anyio.run(main)


CALLS = [("sync", _sync), ("async", _async)]


@pytest.mark.parametrize(("name", "call"), CALLS)
def test_a_gzip_bomb_fails_clearly_under_the_default_cap(
    server: Hostile, name: str, call: Any
) -> None:
    server.body = _gzip(_bomb_parts())
    server.headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert len(server.body) < 200_000
    with pytest.raises(llmkit.BadResponseError) as info:
        call(server, False)
    assert "max_response_bytes=33554432" in str(info.value) and "gzip inflated" in str(info.value)
    assert server.requests == 1  # a body over the cap is not asked for again


@pytest.mark.parametrize(("name", "call"), CALLS)
@pytest.mark.parametrize("stream", [False, True])
def test_a_plain_body_over_the_cap_fails_naming_the_setting(
    server: Hostile, name: str, call: Any, stream: bool
) -> None:
    text = "word " * 50_000  # 250 KB
    if stream:
        server.body = sse([_chunk(text)])
        server.headers = {"Content-Type": "text/event-stream"}
    else:
        server.body = json.dumps(ok_completion(text)).encode()
        server.headers = {"Content-Type": "application/json"}
    with pytest.raises(llmkit.LLMCallError) as info:
        call(server, stream, max_response_bytes=100_000)
    assert "max_response_bytes=100000" in str(info.value)
    assert server.requests == 1


@pytest.mark.parametrize(("name", "call"), CALLS)
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies_under_the_cap_decode(
    server: Hostile, name: str, call: Any, encoding: str
) -> None:
    raw = json.dumps(ok_completion("Hello there")).encode()
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    z = zlib.compressobj(6, zlib.DEFLATED, wbits)
    server.body = z.compress(raw) + z.flush()
    server.headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    assert call(server, False).text == "Hello there"


def test_the_cap_must_be_a_positive_number_of_bytes() -> None:
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(llmkit.ConfigError, match="max_response_bytes"):
            Client("http://127.0.0.1:9/v1", model="m", max_response_bytes=bad)  # type: ignore[arg-type]


def _chunk(text: str) -> dict[str, Any]:
    return {
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}],
    }  # fmt: skip
