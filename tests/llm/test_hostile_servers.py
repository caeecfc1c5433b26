"""Hostile servers the earlier fault tests did not cover (a sweep, see docs/client.md).

Each was a silent wrong answer, a lost answer or a misnamed failure before:

* ``n`` > 1 choices interleaved: their text was mixed into one answer;
* ``data: [1, 2]`` / ``42`` / ``null``, or chunks without ``choices``, then ``[DONE]``:
  an empty answer taken for a complete one;
* an event stream that starts with a UTF-8 BOM: its first chunk was skipped, silently;
* a stream request answered with one JSON body (the server ignored ``stream``): taken for
  a stream cut before its answer, retried, and the answer lost;
* a non-streamed request answered with an HTML page: "no choices" without saying what came;
* a redirect loop: "could not connect", retried (60 requests instead of 21);
* the key echoed upper-cased in an error: left in the message;
* JSON nested 100 000 deep: a raw ``RecursionError``;
* a server that never reads a large request: "timed out waiting for the server" (the
  sync client: even when the call's deadline was what ran out).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from hostile import Hostile, ok_chunks, ok_completion, sse

import llmkit
from llmkit.llm import AsyncClient, Client, RetryPolicy, Timeouts
from llmkit.llm._bodycap import SSE_DONE, _Capped, _DoneWatch, _Inflater

MakeHostile = Callable[..., Hostile]
RETRY = RetryPolicy(max_attempts=3, initial_wait=0.0, jitter=False)
KEY = "sk-test-h28-0123456789abcdef"
SSE_HEADERS = {"Content-Type": "text/event-stream"}
DONE = b"data: [DONE]\n\n"


def _call(url: str, mode: str, *, stream: bool = True, key: str | None = None) -> Any:
    """One chat call: ``sync`` (``chat``), ``iter`` (``Client.stream``) or ``async``."""
    kwargs: dict[str, Any] = {"model": "m", "retry": RETRY, "api_key": key}
    if mode == "async":

        async def main() -> Any:
            async with AsyncClient(url, **kwargs) as client:
                return await client.chat("hi", stream=stream)

        return anyio.run(main)
    with Client(url, **kwargs) as client:
        if mode == "iter":
            with client.stream("hi") as chunks:
                text = "".join(chunks)
            assert chunks.result is not None and chunks.result.text == text
            return chunks.result
        return client.chat("hi", stream=stream)


MODES = ["sync", "iter", "async"]


@pytest.mark.parametrize("mode", MODES)
def test_only_the_first_choice_is_the_answer(hostile: MakeHostile, mode: str) -> None:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def piece(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": {"content": text}, "finish_reason": finish}
        return {**base, "choices": [choice]}

    chunks = [piece(0, "A "), piece(1, "b "), piece(1, "b", "stop"), piece(0, "A", "stop")]
    server = hostile("shape", chunks=chunks)
    result = _call(server.base_url, mode)
    assert result.text == "A A" and result.finish_reason == "stop"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"data: [1, 2]\n\n", "chunk is list"),
        (b"data: 42\n\n", "chunk is int"),
        (b"data: null\n\n", "carried no choice"),  # the SDK skips a null
        (b'data: {"id": "c1", "object": "chat.completion.chunk"}\n\n', "carried no choice"),
        (b"event: ping\ndata: {}\n\n: nothing\n\n", "carried no choice"),
    ],
)
def test_done_after_no_answer_is_not_an_empty_answer(
    hostile: MakeHostile, mode: str, data: bytes, named: str
) -> None:
    server = hostile("raw", body=data + b"data: [DONE]\n\n", headers=SSE_HEADERS)
    with pytest.raises(llmkit.BadResponseError, match=named) as caught:
        _call(server.base_url, mode)
    assert caught.value.attempts == 1 and server.requests == 1  # the same again: not retried


@pytest.mark.parametrize("mode", MODES)
def test_an_event_stream_may_start_with_a_bom(hostile: MakeHostile, mode: str) -> None:
    server = hostile("raw", body=b"\xef\xbb\xbf" + sse(ok_chunks("all of it")), headers=SSE_HEADERS)
    assert _call(server.base_url, mode).text == "all of it "


def test_a_bom_split_across_reads_is_dropped_once() -> None:
    body = sse(ok_chunks("x"))
    pieces = [b"\xef", b"\xbb", b"\xbf" + body[:5], body[5:]]
    capped = _Capped(iter(pieces), _Inflater("", 1 << 20))
    extensions: dict[str, Any] = {}
    capped.watch = _DoneWatch(extensions)
    assert b"".join(capped) == body and extensions[SSE_DONE]
    # Not a BOM after all: the bytes held back are given back unchanged.
    capped = _Capped(iter([b"\xef", b"\xbb"]), _Inflater("", 1 << 20))
    capped.watch = _DoneWatch({})
    assert b"".join(capped) == b"\xef\xbb"


@pytest.mark.parametrize("mode", MODES)
def test_a_json_body_for_a_stream_request_is_the_answer(hostile: MakeHostile, mode: str) -> None:
    body = json.dumps(ok_completion("one body")).encode()
    server = hostile("raw", body=body, headers={"Content-Type": "application/json"})
    result = _call(server.base_url, mode)
    assert result.text == "one body" and result.finish_reason == "stop"
    assert result.usage["completion_tokens"] == 2 and server.requests == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            b'{"error": {"message": "model is loading"}}',
            "instead of an answer: model is loading",
        ),
        (b"[1, 2, 3]", "response is list"),
        (b"{not json", "not valid JSON"),
    ],
)
def test_a_json_body_for_a_stream_request_that_is_no_answer_says_what_it_is(
    hostile: MakeHostile, mode: str, body: bytes, named: str
) -> None:
    server = hostile("raw", body=body, headers={"Content-Type": "application/json"})
    with pytest.raises(llmkit.BadResponseError, match=named):
        _call(server.base_url, mode)
    assert server.requests == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_non_json_body_is_named(hostile: MakeHostile, mode: str) -> None:
    page = b"<html><body>Please log in</body></html>"
    server = hostile("raw", body=page, headers={"Content-Type": "text/html"})
    with pytest.raises(
        llmkit.BadResponseError,
        match=r"expected a chat completion \(a JSON object\), got '<html><body>Please",
    ):
        _call(server.base_url, mode, stream=False)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_redirect_loop_is_a_bad_response_tried_once(hostile: MakeHostile, mode: str) -> None:
    moved = {"Location": "/v1/chat/completions"}
    server = hostile("raw", status=307, body=b"", headers=moved)
    with pytest.raises(llmkit.BadResponseError, match="redirect loop") as caught:
        _call(server.base_url, mode)
    assert caught.value.attempts == 1
    assert server.requests == 21  # the first request and httpx's 20 redirects, once


def test_a_redirect_to_another_host_does_not_carry_the_key(hostile: MakeHostile) -> None:
    target = hostile("shape", chunks=ok_chunks("moved"))
    port = target.base_url.split(":")[-1].split("/")[0]
    there = f"http://localhost:{port}/v1/chat/completions"  # another origin than 127.0.0.1
    server = hostile(
        "raw", status=307, body=b"", headers={"Location": there, "Connection": "close"}
    )
    result = _call(server.base_url, "sync", key=KEY)
    assert result.text == "moved "
    assert server.last_headers["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in target.last_headers


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_echoed_key_is_redacted_in_any_case(hostile: MakeHostile, mode: str) -> None:
    echo = json.dumps({"error": {"message": f"bad key {KEY.upper()} ({KEY.title()})"}})
    server = hostile(
        "raw", status=401, body=echo.encode(), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(llmkit.AuthError) as caught:
        _call(server.base_url, mode, key=KEY)
    assert KEY.lower() not in str(caught.value).lower()
    assert "bad key ***" in str(caught.value)


@pytest.mark.parametrize(
    ("mode", "stream"),
    [("sync", True), ("iter", True), ("async", True), ("sync", False), ("async", False)],
)
def test_json_nested_too_deeply_is_a_bad_response(
    hostile: MakeHostile, mode: str, stream: bool
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # a RecursionError out of the SDK, before
    if stream:
        server = hostile("raw", body=b"data: " + deep + b"\n\n" + DONE, headers=SSE_HEADERS)
    else:
        server = hostile("raw", body=deep, headers={"Content-Type": "application/json"})
    with pytest.raises(llmkit.BadResponseError, match="nested too deeply"):
        _call(server.base_url, mode, stream=stream)
    assert server.requests == 1


@pytest.fixture
def deaf_url() -> Iterator[str]:
    """A server that accepts connections and never reads from them."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()
    for conn in held:
        conn.close()


BIG_PROMPT = "x" * 30_000_000  # more than any socket buffer holds: the send blocks


@pytest.mark.slow  # waits out a server's silence for a second or more
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("timeouts", "named"),
    [
        # the attempt's own write limit (the SDK's timeout, read=) ran out: said so
        (Timeouts(read=0.5, total=60), "timed out sending the request"),
        # the call's deadline ran out mid-send: the limit named is the deadline
        (Timeouts(read=60, total=1), "total call timeout of 1 s reached"),
    ],
)
def test_a_server_that_never_reads_the_request_is_named(
    deaf_url: str, mode: str, timeouts: Timeouts, named: str
) -> None:
    kwargs: dict[str, Any] = {"model": "m", "timeouts": timeouts, "retry": RetryPolicy(1)}
    with pytest.raises(llmkit.CallTimeoutError, match=named):
        if mode == "sync":
            with Client(deaf_url, **kwargs) as client:
                client.chat(BIG_PROMPT, stream=False)
        else:

            async def main() -> None:
                async with AsyncClient(deaf_url, **kwargs) as client:
                    await client.chat(BIG_PROMPT, stream=False)

            anyio.run(main)


IN_BAND = [
    ({"message": "queue full", "code": 429}, llmkit.RateLimitError, 3),
    ({"message": "engine died", "code": "503"}, llmkit.ServerError, 3),
    ({"message": "too long", "type": "BadRequestError", "code": 400}, llmkit.LLMCallError, 1),
    ({"message": "bad key", "code": 401}, llmkit.AuthError, 1),
    ({"message": "who knows"}, llmkit.BadResponseError, 1),
    ("a bare string", llmkit.BadResponseError, 1),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("error", "kind", "attempts"), IN_BAND)
def test_an_error_in_a_200_stream_is_the_kind_its_code_names(
    hostile: MakeHostile, mode: str, error: Any, kind: type[Exception], attempts: int
) -> None:
    # vLLM and SGLang report some failures this way, after the 200 and its headers.
    body = b"data: " + json.dumps({"error": error}).encode() + b"\n\n" + DONE
    server = hostile("raw", body=body, headers=SSE_HEADERS)
    with pytest.raises(kind, match="the server sent an error instead of an answer") as caught:
        _call(server.base_url, mode)
    assert type(caught.value) is kind
    assert caught.value.attempts == attempts == server.requests
    text = error["message"] if isinstance(error, dict) else error
    assert text in str(caught.value)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("error", "kind", "attempts"), IN_BAND[:3])
def test_an_error_in_a_200_body_is_the_kind_its_code_names(
    hostile: MakeHostile, mode: str, error: Any, kind: type[Exception], attempts: int
) -> None:
    body = json.dumps({"error": error}).encode()
    server = hostile("raw", body=body, headers={"Content-Type": "application/json"})
    with pytest.raises(kind, match=error["message"]) as caught:
        _call(server.base_url, mode, stream=False)
    assert type(caught.value) is kind and caught.value.attempts == attempts


def test_an_error_after_text_is_not_retried(hostile: MakeHostile) -> None:
    first = sse(ok_chunks("partial"))[: -len(DONE)].split(b"\n\n")[0] + b"\n\n"
    error = b'data: {"error": {"message": "engine died", "code": 500}}\n\n'
    server = hostile("raw", body=first + error + DONE, headers=SSE_HEADERS)
    with pytest.raises(llmkit.StreamInterruptedError, match="engine died"):
        _call(server.base_url, "iter")
    assert server.requests == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "body"])
def test_only_the_start_of_a_huge_error_body_is_read(
    hostile: MakeHostile, mode: str, stream: bool
) -> None:
    # 5 MB of error page under a 1 MB cap: read whole (before), it was a BadResponseError
    # "larger than max_response_bytes", not retried; its message needs 300 characters.
    page = b"Service down. " + b"E" * 5_000_000
    server = hostile("raw", status=503, body=page, headers={"Content-Type": "text/plain"})
    kwargs: dict[str, Any] = {"model": "m", "retry": RETRY, "max_response_bytes": 1_000_000}
    with pytest.raises(llmkit.ServerError, match=r"HTTP 503: Service down\. EEE") as caught:
        if mode == "sync":
            with Client(server.base_url, **kwargs) as client:
                client.chat("hi", stream=stream)
        else:

            async def main() -> None:
                async with AsyncClient(server.base_url, **kwargs) as client:
                    await client.chat("hi", stream=stream)

            anyio.run(main)
    assert caught.value.attempts == 3 == server.requests


@pytest.mark.parametrize("value", ["0", "-5", "nan", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"])
def test_a_retry_after_that_names_no_wait_leaves_it_to_the_back_off(
    hostile: MakeHostile, value: str
) -> None:
    # Taken as "retry at once", every attempt went out back to back: 1000 in 2.5 s.
    server = hostile(
        "raw",
        status=429,
        body=b'{"error": {"message": "slow down"}}',
        headers={"Content-Type": "application/json", "Retry-After": value},
        then=json.dumps(ok_completion("done")).encode(),
    )
    policy = RetryPolicy(max_attempts=2, initial_wait=0.25, jitter=False)
    with Client(server.base_url, model="m", retry=policy) as client:
        result = client.chat("hi", stream=False)
    first, _second = result.attempts
    assert first.error_type == "RateLimitError" and first.wait_s == 0.25
    assert result.text == "done"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_cut_gzip_body_is_a_cut_not_bad_json(hostile: MakeHostile, mode: str) -> None:
    body = gzip.compress(json.dumps(ok_completion("whole")).encode())[:-12]
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    server = hostile("raw", body=body, headers=headers)
    with pytest.raises(llmkit.BadResponseError, match="gzip body ended before its end") as caught:
        _call(server.base_url, mode, stream=False)
    assert caught.value.attempts == 3  # a cut is retried; bad JSON would not be


@pytest.mark.parametrize("mode", MODES)
def test_a_cut_gzip_stream_is_judged_by_its_events(hostile: MakeHostile, mode: str) -> None:
    # As a plain stream: the finish_reason arrived, the cut took [DONE] and the trailer.
    body = gzip.compress(sse(ok_chunks("whole")))[:-12]
    headers = {**SSE_HEADERS, "Content-Encoding": "gzip"}
    server = hostile("raw", body=body, headers=headers)
    result = _call(server.base_url, mode)
    assert result.text == "whole " and result.finish_reason == "stop"


@pytest.mark.slow  # waits out a server's silence for a second or more
@pytest.mark.parametrize("mode", MODES)
def test_an_answer_whose_server_never_hangs_up_is_kept(hostile: MakeHostile, mode: str) -> None:
    # The whole answer, finish_reason and usage, then neither [DONE] nor a close, only
    # keep-alives (OCI, vllm-metal do this): it was retried after the stall, then lost.
    stall = 60.0
    server = hostile(
        "chunk_then_comments", chunks=ok_chunks("all of it"), interval=0.1, duration=stall
    )
    kwargs: dict[str, Any] = {"model": "m", "retry": RETRY, "timeouts": Timeouts(stall=stall)}
    start = time.monotonic()
    if mode == "async":

        async def main() -> Any:
            async with AsyncClient(server.base_url, **kwargs) as client:
                return await client.chat("hi")

        result = anyio.run(main)
    else:
        with Client(server.base_url, **kwargs) as client:
            if mode == "iter":
                with client.stream("hi") as chunks:
                    assert "".join(chunks) == "all of it "
                result = chunks.result
            else:
                result = client.chat("hi")
    assert result.text == "all of it " and result.finish_reason == "stop"
    assert result.usage["completion_tokens"] == 3 and server.requests == 1
    # Not the whole stall: after a finish_reason only usage and [DONE] may come, at once.
    assert time.monotonic() - start < stall / 2


def _chat_cli(url: str) -> Any:
    from click.testing import CliRunner

    from llmkit.cli._main import cli

    args = ["chat", "--base-url", url, "--model", "m", "--no-log", "--timeout", "30", "hi"]
    return CliRunner().invoke(cli, args, prog_name="llmkit")


def test_llmkit_chat_prints_a_json_answer_to_a_stream_request(hostile: MakeHostile) -> None:
    body = json.dumps(ok_completion("one body")).encode()
    server = hostile("raw", body=body, headers={"Content-Type": "application/json"})
    ran = _chat_cli(server.base_url)
    assert ran.exit_code == 0 and ran.stdout == "one body\n"


def test_llmkit_chat_names_an_in_band_error_in_one_line(hostile: MakeHostile) -> None:
    body = b'data: {"error": {"message": "not multimodal", "code": 400}}\n\n' + DONE
    server = hostile("raw", body=body, headers=SSE_HEADERS)
    ran = _chat_cli(server.base_url)
    assert ran.exit_code == 2 and ran.stdout == ""  # the endpoint cannot be used as asked
    (line,) = ran.stderr.strip().splitlines()
    assert "LLMCallError" in line and "not multimodal (code 400)" in line
