"""From recorded bytes to a request's timing, with the glossary's definitions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmkit.bench._client import RawResponse
from llmkit.bench._records import build_record, make_counter

MS = 1_000_000
COUNT = make_counter()


def chunk(content: str | None = None, *, role: bool = False, usage: int | None = None,
          finish: str | None = None, reasoning: str | None = None) -> bytes:  # fmt: skip
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    obj: dict[str, Any] = {"id": "r1", "choices": [{"index": 0, "delta": delta,
                                                   "finish_reason": finish}]}  # fmt: skip
    if usage is not None:
        obj["usage"] = {"prompt_tokens": 5, "completion_tokens": usage}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def final_usage(n: int) -> bytes:
    body = {"id": "r1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": n}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def raw(reads: list[tuple[int, bytes]], **kw: Any) -> RawResponse:
    r = RawResponse(index=0, scheduled_ns=0, sent_ns=0, status=200,
                    content_type="text/event-stream", **kw)  # fmt: skip
    r.times = [t * MS for t, _ in reads]
    r.chunks = [b for _, b in reads]
    r.end_ns = r.times[-1] if r.times else 0
    return r


def test_role_only_first_chunk_and_multi_token_chunks_with_server_usage() -> None:
    rec = build_record(
        raw([
            (5, chunk("", role=True, usage=0)),
            (50, chunk("Hello there", usage=2)),
            (90, chunk(" you all", usage=4)),
            (100, chunk("!", usage=5, finish="stop") + final_usage(5) + DONE),
        ]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.ok and rec.response_id == "r1"
    t = rec.timing
    assert t is not None
    assert t.ttfb_ms == 5 and t.ttft_ms == 50 and t.e2e_ms == 100
    assert t.chunk_tokens == (2, 2, 1)
    assert t.itl_ms == [20.0, 20.0, 10.0]
    assert t.output_tokens == 5 and rec.token_source == "server"
    assert not rec.itl_approximate
    assert rec.tpot_ms == pytest.approx(50 / 4)


def test_without_per_chunk_usage_tokens_are_counted_after_and_flagged() -> None:
    rec = build_record(
        raw([(10, chunk("", role=True)), (20, chunk("Hello")), (30, chunk(" world", finish="stop")),
             (31, final_usage(7) + DONE)]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.ok and rec.itl_approximate
    assert rec.output_tokens == 7 and rec.counted_tokens == 2
    assert rec.usage_mismatch == 5


def test_think_block_is_reasoning_not_output() -> None:
    rec = build_record(
        raw([(10, chunk("<think>")), (20, chunk("pondering a lot")), (30, chunk("</think>")),
             (40, chunk("Answer", finish="stop") + DONE)]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.ok and rec.timing is not None
    assert rec.timing.ttfr_ms == 20 and rec.timing.ttft_ms == 40


def test_reasoning_content_deltas_time_ttfr() -> None:
    rec = build_record(
        raw([(10, chunk(reasoning="hmm")), (25, chunk("Yes", finish="stop") + DONE)]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.timing is not None and rec.timing.ttfr_ms == 10 and rec.timing.ttft_ms == 25


def test_leading_whitespace_is_timed_when_it_arrived() -> None:
    rec = build_record(
        raw([(10, chunk("\n")), (30, chunk("Hi", finish="stop") + DONE)]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.timing is not None and rec.timing.ttft_ms == 10 and rec.chunks == 2


@pytest.mark.parametrize(
    ("reads", "reason"),
    [
        ([(1, chunk("a")), (2, chunk("b"))], "cut"),
        ([(1, chunk("a")), (2, b'data: {"choi')], "cut"),
        (
            [(1, chunk("a")), (2, b"data: ???\n\n"), (3, chunk("b", finish="stop") + DONE)],
            "bad_sse",
        ),
        ([(1, b'data: {"error": {"message": "boom"}}\n\n')], "stream_error"),
        ([(1, chunk("", role=True) + DONE)], "no_output"),
    ],
)
def test_broken_streams_fail_with_a_reason(reads: list[tuple[int, bytes]], reason: str) -> None:
    rec = build_record(raw(reads), level=0, stream=True, count=COUNT)
    assert rec.status == "failed" and rec.error == reason


def test_non_sse_body() -> None:
    r = raw([(3, b"<html>502</html>")])
    r.content_type = "text/html"
    rec = build_record(r, level=0, stream=True, count=COUNT)
    assert rec.error == "non_sse"


def test_plain_response() -> None:
    body = {"id": "x", "choices": [{"message": {"content": "Hi there"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}}  # fmt: skip
    r = raw([(40, json.dumps(body).encode())], headers_ns=30 * MS)
    rec = build_record(r, level=0, stream=False, count=COUNT)
    assert rec.ok and rec.timing is not None
    assert rec.timing.ttfb_ms == 30 and rec.timing.ttft_ms == 40 and rec.timing.e2e_ms == 40
    assert rec.output_tokens == 2 and rec.tpot_ms is None and rec.mean_itl_ms is None


def test_fields_of_the_wrong_type_are_dropped_not_fatal() -> None:
    odd = b'data: {"id": 7, "choices": [{"delta": {"content": 5}}], "usage": {"completion_tokens": 2.0}}\n\n'
    rec = build_record(
        raw([
            (10, chunk("a", usage=1)),
            (20, odd),
            (30, chunk("b", usage=3, finish="stop") + DONE),
        ]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.ok and rec.chunks == 2 and rec.output_tokens == 3
    # the odd chunk's token (its text unusable) goes with the next text, as any text-less one
    assert rec.timing is not None and rec.timing.chunk_tokens == (1, 2)
    assert rec.response_id == "r1"
