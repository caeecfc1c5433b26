"""The engine bounds what a client controls: a body announced too large is refused before
it is read, and a long prompt is parsed and counted off the event loop (a 20 KB
whitespace-free prompt stalled every other request for 12-15 s)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from llmkit.engine import EngineHandle, _protocol

from ._http import chat, request


def test_a_body_announced_over_the_limit_is_refused_before_it_is_sent(
    engine: EngineHandle,
) -> None:
    url = urlsplit(engine.base_url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.settimeout(60)  # a liveness bound: the old engine waited for the gigabyte
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"
        )
        head = sock.recv(65536).decode("latin-1")
    assert head.startswith("HTTP/1.1 413")
    body = json.loads(head.split("\r\n\r\n", 1)[1])
    assert "request body too large" in body["error"]["message"]


def test_a_long_prompt_is_counted_off_the_event_loop(
    engine: EngineHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_loop: list[bool] = []
    original = _protocol.count_tokens

    def spy(text: str, *args: Any) -> int:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return original(text, *args)

    monkeypatch.setattr(_protocol, "count_tokens", spy)
    prompt = "A" * 20_000
    reply = request(engine, "/chat/completions", chat(engine, prompt, max_tokens=4))
    assert reply.status == 200
    assert reply.json()["usage"]["prompt_tokens"] == 3 + 4 + original(prompt)
    assert on_loop and not any(on_loop)
