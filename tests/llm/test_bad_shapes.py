"""Chunks and bodies that parse as JSON but hold a field of the wrong type (issue 8).

Each must end as ``BadResponseError`` (not ``TypeError``/``AttributeError``/``ValueError``),
be written to the call log, and not be retried (a server that sent it sends it again).
"""

from __future__ import annotations

import asyncio
import copy
import http.server
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile, ok_chunks, ok_completion

import llmkit
from llmkit.llm import AsyncClient, Client, RetryPolicy, read_log

MakeHostile = Callable[..., Hostile]
RETRY = RetryPolicy(max_attempts=3, initial_wait=0.0)


def _chunks(path: str, value: Any) -> list[dict[str, Any]]:
    """A good stream whose first chunk has ``value`` at ``path`` (dotted, ints index)."""
    chunks = copy.deepcopy(ok_chunks())
    target: Any = chunks[0] if not path.startswith("usage") else chunks[-1]
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return chunks


def _body(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(ok_completion())
    target: Any = body
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return body


STREAM_CASES = {
    "choices-string": ("choices", "abc"),
    "choices-object": ("choices", {"a": 1}),
    "choice-number": ("choices.0", 5),
    "delta-string": ("choices.0.delta", "hi"),
    "content-number": ("choices.0.delta.content", 5),
    "content-list": ("choices.0.delta.content", ["a"]),
    "reasoning-number": ("choices.0.delta.reasoning_content", 7),
    "finish-number": ("choices.0.finish_reason", 3),
    "usage-number": ("usage", 7),
    "usage-tokens-string": ("usage.completion_tokens", "many"),
    "usage-tokens-negative": ("usage.prompt_tokens", -4),
    # beyond any real count, and beyond SQLite's integers: the call log failed on it
    "usage-tokens-huge": ("usage.completion_tokens", 10**30),
    "id-number": ("id", 12),
}
BODY_CASES = {
    "choices-string": ("choices", "abc"),
    "message-string": ("choices.0.message", "hi"),
    "content-number": ("choices.0.message.content", 5),
    "content-object": ("choices.0.message.content", {"text": "x"}),
    "finish-list": ("choices.0.finish_reason", []),
    "usage-tokens-string": ("usage.prompt_tokens", "x"),
    "usage-tokens-huge": ("usage.total_tokens", 10**30),
    "usage-details-string": ("usage.completion_tokens_details", "none"),
}


def _call(url: str, mode: str, stream: bool, log: Path) -> Any:
    if mode == "sync":
        with Client(base_url=url, model="m", retry=RETRY, log=log) as client:
            return client.chat("Hello", stream=stream)

    async def main() -> Any:
        async with AsyncClient(base_url=url, model="m", retry=RETRY, log=log) as client:
            return await client.chat("Hello", stream=stream)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_wrong_shaped_chunk_is_a_bad_response(
    hostile: MakeHostile, tmp_path: Path, mode: str, case: str
) -> None:
    server = hostile("shape", chunks=_chunks(*STREAM_CASES[case]))
    with pytest.raises(llmkit.BadResponseError, match="malformed response") as info:
        _call(server.base_url, mode, True, tmp_path / "calls.db")
    assert info.value.attempts == 1 and server.requests == 1  # not retried
    path = STREAM_CASES[case][0].split(".")[-1]
    assert path in str(info.value)  # names the field
    frame = read_log(tmp_path / "calls.db")
    assert list(frame["error_type"]) == ["BadResponseError"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", sorted(BODY_CASES))
def test_wrong_shaped_body_is_a_bad_response(
    hostile: MakeHostile, tmp_path: Path, mode: str, case: str
) -> None:
    server = hostile("shape", body=_body(*BODY_CASES[case]))
    with pytest.raises(llmkit.BadResponseError, match="malformed response"):
        _call(server.base_url, mode, False, tmp_path / "calls.db")
    frame = read_log(tmp_path / "calls.db")
    assert list(frame["error_type"]) == ["BadResponseError"]


def test_well_shaped_hostile_answers_still_work(hostile: MakeHostile, tmp_path: Path) -> None:
    """The checks refuse wrong types only: a plain good stream and body pass."""
    stream = hostile("shape", chunks=ok_chunks("one two three"))
    body = hostile("shape", body=ok_completion("done"))
    assert _call(stream.base_url, "sync", True, tmp_path / "a.db").text == "one two three "
    assert _call(body.base_url, "async", False, tmp_path / "b.db").text == "done"


class _LoginPage(http.server.BaseHTTPRequestHandler):
    """A proxy in front of the model answers 200 with its HTML login page."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><body>Please log in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_200_html_page_is_named_not_taken_for_a_cut_stream() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    # poll every 50 ms: shutdown() waits out one poll (0.5 s by default)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    retry = RetryPolicy(max_attempts=3, initial_wait=0)
    errors: list[llmkit.LLMCallError] = []
    try:
        with Client(base_url=url, model="m", retry=retry, log=None) as client:
            for call in (lambda: client.chat("Hi"), lambda: "".join(client.stream("Hi"))):
                with pytest.raises(llmkit.BadResponseError) as info:
                    call()
                errors.append(info.value)

        async def both() -> None:
            async with AsyncClient(base_url=url, model="m", retry=retry, log=None) as client:
                with pytest.raises(llmkit.BadResponseError) as info:
                    await client.chat("Hi")
                errors.append(info.value)
                with pytest.raises(llmkit.BadResponseError) as info:
                    async for _ in client.stream("Hi"):
                        pass
                errors.append(info.value)

        asyncio.run(both())
    finally:
        server.shutdown()
        server.server_close()
    for exc in errors:
        assert "text/html" in str(exc), str(exc)
        assert exc.attempts == 1  # a login page is not retried
