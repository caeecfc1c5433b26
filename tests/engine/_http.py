"""Tiny raw HTTP helpers for engine tests (stdlib only, so the wire format is what we see)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from llmkit.engine import EngineHandle


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    complete: bool = True

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def events(self) -> list[str]:
        """SSE ``data:`` payloads in order (garbage lines kept as they are)."""
        text = self.body.decode("utf-8")
        out = []
        for block in text.split("\n\n"):
            if not block.strip():
                continue
            out.append(block[6:] if block.startswith("data: ") else block)
        return out

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.events if e != "[DONE]"]


def request(
    engine: EngineHandle | str,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    base = engine if isinstance(engine, str) else engine.base_url
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=timeout)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    try:
        conn.request(method, u.path + path, body=data, headers=hdrs)
        resp = conn.getresponse()
        complete = True
        try:
            payload = resp.read()
        except http.client.IncompleteRead as exc:
            payload, complete = exc.partial, False
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload, complete)
    finally:
        conn.close()


def chat(engine: EngineHandle, content: str = "hello", **fields: Any) -> dict[str, Any]:
    return {
        "model": engine.config.model,
        "messages": [{"role": "user", "content": content}],
        **fields,
    }
