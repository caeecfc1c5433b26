"""``BenchConfig.max_response_bytes`` / ``--max-response-bytes``: what a hostile server sends.

A real HTTP server on 127.0.0.1 answers each request as its script says: an endless event
stream, a gzip bomb (a small body that inflates past the cap), or a good answer. A body
over the cap fails that request as ``too_large`` (in ``requests.csv`` too) while the run
goes on; without the cap the bench kept whatever it was sent.
"""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import llmkit
from llmkit.bench import BenchConfig, run_bench
from llmkit.cli._main import cli
from llmkit.llm import Client

DEFAULT = 32 * 1024 * 1024


def _sse(text: str, *, finish: bool = True) -> bytes:
    chunk = {
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": text},
                     "finish_reason": "stop" if finish else None}],
    }  # fmt: skip
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


GOOD = {
    True: _sse("Hello there") + b"data: [DONE]\n\n",
    False: json.dumps({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }).encode(),
}  # fmt: skip


def _gzip(parts: Iterator[bytes]) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(z.compress(p) for p in parts) + z.flush()


def _bomb_parts(stream: bool) -> Iterator[bytes]:
    """An answer of 40 MB whose text is all one letter: ~40 KB of gzip."""
    key = b"delta" if stream else b"message"
    yield (
        (b"data: " if stream else b"")
        + b'{"id": "c1", "choices": [{"index": 0, "'
        + key
        + b'": {"content": "'
    )
    for _ in range(40):
        yield b"A" * 1_000_000
    yield b'"}}]}\n\ndata: [DONE]\n\n' if stream else b'"}}]}'


BOMB = {stream: _gzip(_bomb_parts(stream)) for stream in (True, False)}


class Server:
    """Answers request ``i`` by ``script[i % len(script)]``; counts bytes it wrote."""

    def __init__(self, script: tuple[str, ...], models_body: bytes = b"") -> None:
        self.script, self.models_body = script, models_body
        self.requests = 0
        self.endless_bytes = 0
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(owner.models_body, {"Content-Type": "application/json"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                stream = bool(body.get("stream"))
                content_type = "text/event-stream" if stream else "application/json"
                kind = owner.script[owner.requests % len(owner.script)]
                owner.requests += 1
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if kind == "endless":
                        owner._endless(self)
                    elif kind == "bomb":
                        headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
                        self._send(BOMB[stream], headers)
                    else:
                        self._send(GOOD[stream], {"Content-Type": content_type})
                self.close_connection = True

            def _send(self, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _endless(self, h: BaseHTTPRequestHandler) -> None:
        """Valid SSE text, 64 KB a write, until the client hangs up (or the test ends)."""
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        piece = _sse("x" * 1000, finish=False) * 60
        while not self._stop.is_set():
            h.wfile.write(piece)
            self.endless_bytes += len(piece)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Server] = []

    def make(*script: str, models_body: bytes = b"") -> Server:
        servers.append(Server(script, models_body))
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def _run(server: Server, n: int, **kw: Any) -> Any:
    config = BenchConfig(base_url=server.base_url, model="m", concurrency=(1,), requests=n,
                         max_tokens=4, prompt_tokens=(8,), **kw)  # fmt: skip
    (level,) = run_bench(config).levels
    return level


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "body"])
def test_a_gzip_bomb_fails_its_request_under_the_default_cap(serve: Any, stream: bool) -> None:
    server = serve("ok", "bomb", "ok")
    assert len(BOMB[stream]) < 200_000
    level = _run(server, 3, stream=stream)
    assert BenchConfig(base_url="http://x/v1").max_response_bytes == DEFAULT
    assert level.stats["requests"]["failed_reasons"] == {"too_large": 1}
    assert level.ok == 2  # the run went on
    (bad,) = [r for r in level.records if not r.ok]
    assert bad.index == 1 and f"max_response_bytes={DEFAULT}" in bad.error_detail
    assert server.requests == 3  # not retried


def test_an_endless_stream_stops_at_the_cap_and_the_run_goes_on(serve: Any) -> None:
    server = serve("endless", "ok")
    # timeout_s: without the cap, each endless request would end only at this limit
    level = _run(server, 4, max_response_bytes=1_000_000, timeout_s=30)
    assert level.stats["requests"]["failed_reasons"] == {"too_large": 2}
    assert level.ok == 2
    for rec in level.records:
        if not rec.ok:
            assert "max_response_bytes=1000000" in rec.error_detail
            assert "--max-response-bytes" in rec.error_detail


def test_the_cli_option_and_requests_csv_name_the_error(serve: Any, tmp_path: Path) -> None:
    server = serve("ok", "endless")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli,
        ["bench", "--base-url", server.base_url, "--model", "m", "-c", "1", "-n", "2",
         "--max-tokens", "4", "--prompt-tokens", "8", "--max-response-bytes", "200000",
         "--timeout", "30s", "--no-plots", "-o", str(out), "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr  # one request succeeded: a partial failure
    with (out / "requests.csv").open(newline="") as f:
        rows = {r["index"]: r for r in csv.DictReader(f)}
    assert rows["0"]["status"] == "ok"
    assert rows["1"]["status"] == "too_large"
    assert "max_response_bytes=200000" in rows["1"]["error_detail"]
    summary = json.loads(res.stdout)
    assert summary["run"]["args"]["max_response_bytes"] == 200000


def test_a_models_list_over_the_cap_is_a_clear_error(serve: Any) -> None:
    server = serve("ok", models_body=b'{"data": [{"id": "m"}], "pad": "' + b"x" * 5000 + b'"}')
    config = BenchConfig(base_url=server.base_url, concurrency=(1,), requests=1,
                         max_response_bytes=1000)  # fmt: skip
    with pytest.raises(llmkit.BadResponseError, match="max_response_bytes=1000"):
        run_bench(config)
    for body in (b"[" * 100_000, b'{"data": []}', b"\xff"):  # no model in it: one clear error
        server.models_body = body
        with pytest.raises(llmkit.BadResponseError, match="did not list a model"):
            run_bench(config.with_(max_response_bytes=DEFAULT))


def test_the_defaults_agree_and_bad_caps_are_refused() -> None:
    with Client("http://127.0.0.1:9/v1", model="m") as client:
        assert client.max_response_bytes == DEFAULT  # the model client's cap
    command = cli.get_command(click.Context(cli), "bench")
    assert command is not None
    option = next(p for p in command.params if p.name == "max_response_bytes")
    assert option.default == DEFAULT
    for bad in (0, -1, 1.5, True):
        with pytest.raises(llmkit.ConfigError, match="max-response-bytes"):
            BenchConfig(base_url="http://x/v1", max_response_bytes=bad)  # type: ignore[arg-type]
    res = CliRunner().invoke(
        cli, ["bench", "--base-url", "http://x/v1", "--max-response-bytes", "0"]
    )
    assert res.exit_code == 2 and "--max-response-bytes" in res.stderr
