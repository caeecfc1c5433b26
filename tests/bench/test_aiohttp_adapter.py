"""Contract of the aiohttp adapter: a diverted reader hands every body byte, stamped, to
its sink, and still ends. If an aiohttp release changes how the protocol feeds the
response reader, these fail; the installed version must lie in the pinned range."""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import aiohttp
from packaging.requirements import Requirement

from llmkit.bench._aiohttp_adapter import TESTED_RANGE, divert, undivert
from llmkit.engine import EngineHandle

ROOT = Path(__file__).resolve().parents[2]
BODY = {
    "model": "llmkit-sim",
    "messages": [{"role": "user", "content": "Tell me about latency."}],
    "max_tokens": 24,
    "seed": 7,
    "stream": True,
}


async def _fetch(url: str, diverted: bool) -> tuple[bool, bytes, list[int], list[bytes]]:
    times: list[int] = []
    chunks: list[bytes] = []
    async with aiohttp.ClientSession() as session, session.post(url, json=BODY) as resp:
        assert resp.status == 200
        took = divert(resp.content, times, chunks, 1 << 30) if diverted else False
        read = []
        while data := await resp.content.readany():
            read.append(data)
        undivert(id(resp.content))
    return took, b"".join(read), times, chunks


def test_a_diverted_reader_gets_every_byte_stamped_and_ends(
    make_engine: Callable[..., EngineHandle],
) -> None:
    engine = make_engine(decode_step_ms=2.0)  # tokens arrive in separate reads
    url = f"{engine.base_url}/chat/completions"
    _, plain, _, _ = asyncio.run(_fetch(url, diverted=False))
    took, before, times, chunks = asyncio.run(_fetch(url, diverted=True))
    assert took, "aiohttp's response reader is no longer a plain StreamReader"
    assert len(chunks) >= 2 and len(times) == len(chunks)
    assert times == sorted(times)
    # nothing lost, nothing twice, in order (ids and timestamps differ between requests)
    assert _text(before + b"".join(chunks)) == _text(plain) != ""
    assert (before + b"".join(chunks)).rstrip().endswith(b"data: [DONE]")


def _text(body: bytes) -> str:
    """The answer's text from an SSE body."""
    events = [line[len("data: ") :] for line in body.decode().splitlines()]
    chunks = [json.loads(e) for e in events if e.startswith("{")]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_a_reader_of_another_class_is_left_alone() -> None:
    class Other:
        pass

    assert divert(Other(), [], [], 1 << 30) is False


def test_the_installed_aiohttp_is_in_the_pinned_range() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    pinned = next(Requirement(r) for r in extras["bench"] if r.startswith("aiohttp"))
    assert pinned == Requirement(TESTED_RANGE)
    assert pinned.specifier.contains(aiohttp.__version__), (aiohttp.__version__, TESTED_RANGE)
