"""The latency glossary: definitions checked on hand-made timestamps."""

from __future__ import annotations

import pytest

from llmkit.timing import ReasoningSplitter, StreamTimer, per_token_itl, tpot_ms

MS = 1_000_000


def test_per_token_itl_spreads_a_chunk_gap_over_its_tokens() -> None:
    assert per_token_itl([0, 40 * MS, 50 * MS], [1, 4, 1]) == [10.0] * 5


def test_tpot_is_undefined_for_one_token() -> None:
    assert tpot_ms(100.0, 20.0, 1) is None
    assert tpot_ms(100.0, 20.0, 5) == pytest.approx(20.0)


def test_timer_uses_server_usage_first_and_ttft_from_first_output_chunk() -> None:
    timer = StreamTimer(sent_ns=1000 * MS)
    timer.byte(1005 * MS)
    timer.output(1020 * MS, "Hello")
    timer.output(1030 * MS, " world")
    timing = timer.finish(usage_tokens=7)
    assert timing.ttfb_ms == 5.0
    assert timing.ttft_ms == 20.0
    assert timing.e2e_ms == 30.0
    assert timing.output_tokens == 7 and timing.token_source == "server"
    assert timing.tpot_ms == pytest.approx(10 / 6)
    assert timing.icl_ms == [10.0]


def test_timer_counts_offline_when_no_usage_and_marks_it_approximate() -> None:
    timer = StreamTimer(sent_ns=0)
    timer.output(10 * MS, "Hello")
    timer.output(20 * MS, " world, again")
    timing = timer.finish()
    assert timing.token_source == "approximate" and timing.tokens_approximate
    assert timing.output_tokens == 4  # cl100k: "Hello", " world", ",", " again"


def test_timer_prefers_per_chunk_usage_over_counting() -> None:
    timer = StreamTimer(sent_ns=0)
    timer.output(10 * MS, "ab", tokens=2)
    timer.output(30 * MS, "cd", tokens=4)
    timing = timer.finish()
    assert timing.token_source == "chunks" and timing.output_tokens == 6
    assert timing.itl_ms == [5.0, 5.0, 5.0, 5.0]


@pytest.mark.parametrize(
    ("deltas", "reasoning", "output"),
    [
        (["<think>plan", " more</think>Answer"], "plan more", "Answer"),
        (["<thi", "nk>x</th", "ink>", "Y"], "x", "Y"),
        (["  ", "Plain answer"], "", "  Plain answer"),
        (["<b>bold</b>"], "", "<b>bold</b>"),
        (["<think>never closed"], "never closed", ""),
    ],
)
def test_reasoning_splitter(deltas: list[str], reasoning: str, output: str) -> None:
    splitter = ReasoningSplitter()
    got_r, got_o = "", ""
    for d in deltas:
        r, o = splitter.feed(d)
        got_r, got_o = got_r + r, got_o + o
    r, o = splitter.flush()
    assert (got_r + r, got_o + o) == (reasoning, output)


def test_feed_keeps_arrival_time_of_held_back_whitespace() -> None:
    timer = StreamTimer(sent_ns=0)
    assert timer.feed(10 * MS, "\n\n", tokens=1) == ""  # might still open <think>
    assert timer.feed(20 * MS, "Hello", tokens=1) == "\n\nHello"
    timing = timer.finish(usage_tokens=2)
    assert timing.ttft_ms == 10.0
    assert timing.chunk_times_ns == (10 * MS, 20 * MS)
    assert timing.chunk_tokens == (1, 1)


def test_reasoning_tokens_are_reported_apart_from_the_answer() -> None:
    timer = StreamTimer(sent_ns=0)
    for i in range(3):
        timer.feed((10 + 10 * i) * MS, None, reasoning="hmm ", tokens=1)
    for i in range(3):
        timer.feed((40 + 10 * i) * MS, "ok ", tokens=1)
    timing = timer.finish(usage_tokens=6)
    assert (timing.output_tokens, timing.reasoning_tokens) == (3, 3)
    assert timing.token_source == "server"
    assert timing.ttfr_ms == 10.0 and timing.ttft_ms == 40.0
    assert timing.tpot_ms == pytest.approx(10.0)


def test_server_reasoning_token_count_wins() -> None:
    timer = StreamTimer(sent_ns=0)
    timer.feed(10 * MS, "<think>a long plan</think>")
    timer.feed(20 * MS, "Yes")
    timing = timer.finish(usage_tokens=9, reasoning_tokens=8)
    assert (timing.output_tokens, timing.reasoning_tokens) == (1, 8)
    assert timing.token_source == "server"


@pytest.mark.parametrize("where", ["usage", "per_chunk"])
def test_a_servers_absurd_token_count_never_becomes_a_list_that_long(where: str) -> None:
    # 10**12 tokens claimed for 4 bytes of text: the total is reported as claimed, but the
    # per-token gaps are at most one per byte plus a few text-less tokens per chunk.
    timer = StreamTimer(sent_ns=0)
    claim = 10**12
    timer.output(10 * MS, "ab", tokens=1 if where == "usage" else None)
    timer.output(30 * MS, "cd", tokens=claim if where == "per_chunk" else None)
    if where == "usage":
        timer.chunk_tokens[0] = None  # no per-chunk counts: the usage total is spread
    timing = timer.finish(usage_tokens=claim if where == "usage" else None)
    assert len(timing.itl_ms) <= 2 + 16
    if where == "usage":
        assert timing.output_tokens == claim and timing.token_source == "server"
