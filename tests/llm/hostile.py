"""A small hostile OpenAI-compatible server on 127.0.0.1 for the client's fault tests.

Each behaviour is a way a real server, proxy or load balancer has misbehaved:

``comments``        SSE keep-alive comments only (``: ping``), never a chunk; for a body
                    request, JSON whitespace one byte at a time, never the JSON.
``trickle``         a valid answer, one byte per ``interval`` (SSE or JSON body).
``head_trickle``    the status line and headers themselves, one byte per ``interval``.
``chunk_then_comments``  one real chunk (or ``chunks``, without ``[DONE]``), then only
                    comments, never closing.
``shape``           a stream of ``chunks`` (or a body) exactly as given: valid JSON, wrong shapes.
``raw``             ``body`` as bytes, with ``status`` and ``headers`` (a gzip body, an
                    oversized one, a redirect); with ``then``, only the first request
                    gets it and later ones ``then`` (a JSON body) with 200.

Every behaviour stops after ``duration`` seconds (then closes the connection), so a client
that ignores its deadline makes a test fail by assertion instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Hostile", "ok_chunks", "ok_completion"]


def ok_chunks(text: str = "Hello there", model: str = "m") -> list[dict[str, Any]]:
    """A well-formed chat stream: one chunk per word, a finish chunk, a usage chunk."""
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model}
    words = text.split(" ")
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}]}
        for w in words
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append(
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": len(words), "total_tokens": 9},
        }
    )
    return chunks


def ok_completion(text: str = "Hello there", model: str = "m") -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def sse(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + (
        b"data: [DONE]\n\n"
    )


@dataclass
class Hostile:
    """The server. ``base_url`` ends in ``/v1``; ``requests`` counts requests served."""

    behaviour: str
    interval: float = 0.2
    duration: float = 8.0
    chunks: list[dict[str, Any]] | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    then: bytes | None = None
    requests: int = 0
    last_request: dict[str, Any] = field(default_factory=dict)
    last_headers: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer = field(init=False, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                owner.last_request = request
                owner.last_headers = {k.lower(): v for k, v in self.headers.items()}
                # The client hanging up is what a deadline should make it do.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    owner._serve(self, bool(request.get("stream")))
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- behaviours ---------------------------------------------------------------------------
    def _drip(self, wfile: Any, data: bytes) -> None:
        """Write ``data`` one byte per interval; give up at ``duration``."""
        end = time.monotonic() + self.duration
        for i in range(len(data)):
            if self._stop.is_set() or time.monotonic() > end:
                return
            wfile.write(data[i : i + 1])
            wfile.flush()
            time.sleep(self.interval)

    def _headers(self, h: BaseHTTPRequestHandler, stream: bool, length: int | None = None) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream" if stream else "application/json")
        if length is not None:
            h.send_header("Content-Length", str(length))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()

    def _serve(self, h: BaseHTTPRequestHandler, stream: bool) -> None:
        b = self.behaviour
        end = time.monotonic() + self.duration
        if b == "comments":
            # A body that never finishes: SSE comments, or JSON whitespace before the JSON.
            self._headers(h, stream, None if stream else 10**6)
            while time.monotonic() < end and not self._stop.is_set():
                h.wfile.write(b": ping\n\n" if stream else b" ")
                h.wfile.flush()
                time.sleep(self.interval)
        elif b == "trickle":
            data = sse(ok_chunks()) if stream else json.dumps(ok_completion()).encode()
            self._headers(h, stream, None if stream else len(data))
            self._drip(h.wfile, data)
        elif b == "head_trickle":
            self._drip(h.wfile, b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" * 50)
        elif b == "chunk_then_comments":
            self._headers(h, stream)
            h.wfile.write(sse(self.chunks or ok_chunks("first")[:1])[: -len(b"data: [DONE]\n\n")])
            h.wfile.flush()
            while time.monotonic() < end and not self._stop.is_set():
                h.wfile.write(b": ping\n\n")
                h.wfile.flush()
                time.sleep(self.interval)
        elif b == "shape":
            data = sse(self.chunks or []) if stream else json.dumps(self.body).encode()
            self._headers(h, stream, len(data))
            h.wfile.write(data)
            h.wfile.flush()
        elif b == "raw":
            first = self.then is None or self.requests == 1
            body = self.body if first else self.then
            h.send_response(self.status if first else 200)
            headers = self.headers if first else {"Content-Type": "application/json"}
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(body)))
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body)
        else:  # pragma: no cover - a typo in a test
            raise ValueError(f"unknown behaviour {b!r}")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
