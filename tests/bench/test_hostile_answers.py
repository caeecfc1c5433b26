"""Answers that parse but lie, from a real HTTP server on 127.0.0.1 (a hostile-server sweep).

Before: a usage count of 1e30 crashed the whole run (``OverflowError``, exit 2, no
``requests.csv``), a negative one was taken as the output tokens, an event stream that
began with a BOM was ``no_output``, and with ``n`` > 1 every choice's chunks were timed as
the answer's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llmkit.bench import BenchConfig, run_bench

BOM = b"\xef\xbb\xbf"


def _chunk(text: str | None, *, index: int = 0, finish: str | None = None,
           usage: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    choices = [] if text is None else [
        {"index": index, "delta": {"content": text}, "finish_reason": finish}
    ]  # fmt: skip
    obj: dict[str, Any] = {"id": "c1", "object": "chat.completion.chunk", "choices": choices}
    if usage is not None:
        obj["usage"] = usage
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _completion(usage: dict[str, Any]) -> bytes:
    message = {"role": "assistant", "content": "one two three"}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return json.dumps({"id": "c1", "choices": [choice], "usage": usage}).encode()


DONE = b"data: [DONE]\n\n"


@pytest.fixture
def answer() -> Iterator[Callable[..., str]]:
    """A server that answers every request with ``body`` as ``content_type`` (no content
    type: ``body`` is the raw response, status line and all, and with ``hold`` the
    connection then stays open); its base URL."""
    servers: list[ThreadingHTTPServer] = []
    ended = threading.Event()

    def make(body: bytes, content_type: str, *, hold: bool = False) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.close_connection = True
                if not content_type:  # the whole response as given, status line included
                    self.wfile.write(body)
                    self.wfile.flush()
                    ended.wait(30 if hold else 0)  # hold: never hang up (until the test ends)
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield make
    ended.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def _run(url: str, *, stream: bool = True, **kw: Any) -> Any:
    config = BenchConfig(base_url=url, model="m", concurrency=(1,), requests=2, max_tokens=4,
                         prompt_tokens=(8,), stream=stream, **kw)  # fmt: skip
    (level,) = run_bench(config).levels
    return level


@pytest.mark.parametrize("count", [10**30, -3, 2.5, "7"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "body"])
def test_an_impossible_usage_count_is_dropped_and_the_tokens_counted(
    answer: Callable[..., str], count: Any, stream: bool
) -> None:
    usage = {"prompt_tokens": count, "completion_tokens": count, "total_tokens": count}
    if stream:
        body = _chunk("one two three", finish="stop") + _chunk(None, usage=usage) + DONE
        url = answer(body, "text/event-stream")
    else:
        url = answer(_completion(usage), "application/json")
    level = _run(url, stream=stream)
    assert level.ok == 2
    for rec in level.records:
        assert rec.token_source != "server" and rec.output_tokens == rec.counted_tokens == 3
        assert rec.prompt_tokens is None


def test_an_event_stream_may_start_with_a_bom(answer: Callable[..., str]) -> None:
    body = BOM + _chunk("one ") + _chunk("two", finish="stop") + DONE
    level = _run(answer(body, "text/event-stream"))
    assert level.ok == 2
    for rec in level.records:
        assert rec.chunks == 2 and rec.finish_reason == "stop"


def test_only_the_first_choice_is_timed(answer: Callable[..., str]) -> None:
    body = (_chunk("one ") + _chunk("x ", index=1) + _chunk("y ", index=1)
            + _chunk("two", finish="stop") + _chunk("z", index=1, finish="length") + DONE)  # fmt: skip
    level = _run(answer(body, "text/event-stream"))
    assert level.ok == 2
    for rec in level.records:
        assert rec.chunks == 2 and rec.finish_reason == "stop" and rec.counted_tokens == 2


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "body"])
def test_json_nested_too_deeply_fails_the_request_not_the_run(
    answer: Callable[..., str], stream: bool
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # a RecursionError ended the run, before
    if stream:
        url = answer(b"data: " + deep + b"\n\n" + DONE, "text/event-stream")
    else:
        url = answer(deep, "application/json")
    level = _run(url, stream=stream)
    reason = "bad_sse" if stream else "non_json"
    assert level.stats["requests"]["failed_reasons"] == {reason: 2}


LOOP = (
    b"HTTP/1.1 307 Moved\r\nLocation: /v1/chat/completions\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@pytest.mark.parametrize(
    ("response", "reason", "named"),
    [
        (b"HTTX/9 nonsense\r\n\r\n", "bad_http", "the response broke HTTP: Bad status line"),
        (b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100_000 + b"\r\n\r\n", "bad_http", "broke HTTP"),
        (LOOP, "redirect_loop", "more than 10 redirects"),
    ],
)
def test_a_response_that_breaks_http_is_named_not_taken_for_an_http_status(
    answer: Callable[..., str], response: bytes, reason: str, named: str
) -> None:
    # aiohttp raises these as ClientResponseError with a status 400 of its own making:
    # they were "http_error", read as if the server had answered 400.
    level = _run(answer(response, ""))
    assert level.stats["requests"]["failed_reasons"] == {reason: 2}
    for rec in level.records:
        assert named in rec.error_detail and rec.http_status is None


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"  # no length: till close


@pytest.mark.slow  # waits out a server's silence for a second or more
@pytest.mark.parametrize("limit", ["stall_timeout_s", "timeout_s"])
def test_an_answer_whose_server_never_hangs_up_is_kept(
    answer: Callable[..., str], limit: str
) -> None:
    # The whole answer with its finish_reason, then neither [DONE] nor a close (OCI and
    # vllm-metal do this): each request was a failed "stall" or "timeout".
    body = HEAD + _chunk("one ") + _chunk("two", finish="stop")
    level = _run(answer(body, "", hold=True), **{limit: 0.5})
    assert level.ok == 2
    for rec in level.records:
        assert rec.finish_reason == "stop" and rec.chunks == 2
        assert rec.end_ns == rec.last_token_ns  # its end is its last byte, not the limit


@pytest.mark.slow  # waits out a server's silence for a second or more
def test_a_stream_cut_short_by_a_hang_still_fails(answer: Callable[..., str]) -> None:
    body = HEAD + _chunk("one ") + _chunk("two")
    level = _run(answer(body, "", hold=True), stall_timeout_s=0.5)
    assert level.stats["requests"]["failed_reasons"] == {"stall": 2}
