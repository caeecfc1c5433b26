"""The peers' definitions (vLLM bench serve, guidellm, aiperf) reproduced from recorded bytes.

Every stream here has known arrival times, so each peer's figure is known exactly: these
tests pin what counts as the first token, ITL per chunk vs per request, which tokens count
and how percentiles are taken, for each peer and for llmkit beside it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest

from llmkit.bench import BenchConfig, run_bench
from llmkit.bench._config import LoadLevel
from llmkit.bench._metrics import ClientStats, summarize_level
from llmkit.bench._peers import inverse_cdf_percentiles
from llmkit.bench._records import RequestRecord, build_record
from llmkit.engine import EngineConfig

from .test_records import COUNT, DONE, MS, chunk, final_usage, raw


def _level(records: list[RequestRecord], start_ns: int = 0) -> dict[str, Any]:
    return summarize_level(
        LoadLevel("concurrency", 1.0), records, index=0, start_ns=start_ns,
        client=ClientStats(wall_s=1.0, cpu_s=0.0), slo=None,
    )  # fmt: skip


def _role_stream(end_ms: int = 120) -> RequestRecord:
    """Role chunk at 5 ms, then 2+2+1 tokens at 50, 90 and 100 ms, usage at 110 ms."""
    r = raw([
        (5, chunk("", role=True, usage=0)),
        (50, chunk("Hello there", usage=2)),
        (90, chunk(" you all", usage=4)),
        (100, chunk("!", usage=5, finish="stop")),
        (110, final_usage(5) + DONE),
    ])  # fmt: skip
    r.end_ns = end_ms * MS
    return build_record(r, level=0, stream=True, count=COUNT)


def test_role_only_first_chunk_counts_for_vllm_but_not_for_llmkit_guidellm_aiperf() -> None:
    rec = _role_stream()
    assert rec.choice_times_ns == (5 * MS, 50 * MS, 90 * MS, 100 * MS)  # usage chunk: no choices
    assert rec.text_span_ns == (50 * MS, 100 * MS)
    lv = _level([rec])
    assert lv["ttft_ms"]["mean"] == 50 and lv["tpot_ms"]["mean"] == pytest.approx(50 / 4)
    assert lv["itl_ms"]["mean"] == pytest.approx((40 + 10) / 3)  # per token: 20, 20, 10
    vllm = lv["peers"]["vllm"]
    assert vllm["ttft_ms"]["mean"] == 5  # the role chunk
    assert vllm["e2el_ms"]["mean"] == 100  # the last chunk with choices, not the usage chunk
    assert vllm["tpot_ms"]["mean"] == pytest.approx((100 - 5) / 4)
    # per chunk, the role → first text gap included
    assert sorted(vllm["itl_ms"][k] for k in ("p50", "max")) == [40, 45]
    assert vllm["itl_ms"]["mean"] == pytest.approx((45 + 40 + 10) / 3)
    assert vllm["itl_ms"]["std"] == pytest.approx(float(np.std([45, 40, 10])))
    gl = lv["peers"]["guidellm"]
    assert gl["time_to_first_token_ms"]["mean"] == 50
    assert gl["inter_token_latency_ms"]["mean"] == pytest.approx(50 / 4)
    assert gl["time_per_output_token_ms"]["mean"] == pytest.approx(100 / 5)  # TTFT included
    assert gl["request_latency_s"]["mean"] == pytest.approx(0.120)  # to the stream's end
    ai = lv["peers"]["aiperf"]
    assert ai["time_to_first_token_ms"]["mean"] == 50
    assert ai["request_latency_ms"]["mean"] == 100
    ip = lv["peers"]["inference_perf"]
    assert ip["time_to_first_token_ms"]["mean"] == 50 and ip["time_per_output_token_ms"][
        "mean"] == pytest.approx(50 / 4)  # fmt: skip
    # tokens stamped at their chunk: 1 zero inside the first chunk, then 40 + zero, then 10
    assert ip["inter_token_latency_ms"]["mean"] == pytest.approx((40 + 10) / 4)
    assert ip["inter_token_latency_ms"]["p50"] == pytest.approx(5.0)
    assert ip["normalized_time_per_output_token_ms"]["mean"] == pytest.approx(120 / 5)
    early, per_chunk = lv["peers"]["notes"]  # said in words under the level's table
    assert "45.0 ms (p50) before the first text" in early and "TTFT p50 5.0 ms" in early
    assert per_chunk.startswith("1.7 tokens a chunk: vLLM's ITL is one gap per chunk")
    assert ai["inter_token_latency_ms"]["mean"] == pytest.approx(50 / 4)


def _reasoning_chunk(text: str, *, content: str | None = None) -> bytes:
    delta: dict[str, Any] = {"reasoning_content": text}
    if content is not None:
        delta["content"] = content
    obj = {"id": "r1", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _usage_with_reasoning(completion: int, reasoning: int) -> bytes:
    usage = {"prompt_tokens": 5, "completion_tokens": completion,
             "completion_tokens_details": {"reasoning_tokens": reasoning}}  # fmt: skip
    return b"data: " + json.dumps({"id": "r1", "choices": [], "usage": usage}).encode() + b"\n\n"


def test_reasoning_counts_as_first_token_and_as_output_for_the_peers() -> None:
    # 3 reasoning tokens at 10, 20, 30 ms; 2 answer tokens at 40 and 60 ms
    rec = build_record(
        raw([
            (10, _reasoning_chunk("Let")), (20, _reasoning_chunk(" me")),
            (30, _reasoning_chunk(" think")), (40, chunk("Yes")),
            (60, chunk("!", finish="stop")), (61, _usage_with_reasoning(5, 3) + DONE),
        ]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.output_tokens == 2 and rec.timing is not None and rec.timing.reasoning_tokens == 3
    lv = _level([rec])
    assert lv["ttft_ms"]["mean"] == 40 and lv["ttfr_ms"]["mean"] == 10
    assert lv["tpot_ms"]["mean"] == 20  # the answer's pace: (60 - 40) / (2 - 1)
    tp = lv["throughput"]
    assert (tp["output_tokens"], tp["reasoning_tokens"], tp["completion_tokens"]) == (2, 3, 5)
    assert tp["total_tokens_per_s"] == pytest.approx(tp["completion_tokens_per_s"] + tp[
        "input_tokens_per_s"])  # fmt: skip
    vllm = lv["peers"]["vllm"]
    assert vllm["ttft_ms"]["mean"] == 10 and vllm["total_output_tokens"] == 5
    assert vllm["tpot_ms"]["mean"] == pytest.approx((60 - 10) / 4)
    gl = lv["peers"]["guidellm"]
    assert gl["time_to_first_token_ms"]["mean"] == 10
    assert gl["time_to_first_output_token_ms"]["mean"] == 40  # guidellm's TTFOT is our TTFT
    ai = lv["peers"]["aiperf"]
    assert ai["time_to_first_token_ms"]["mean"] == 10 and ai["total_osl"] == 5
    assert ai["inter_token_latency_ms"]["mean"] == pytest.approx((60 - 10) / 4)
    assert any(n.startswith("reasoning came before the answer") for n in lv["peers"]["notes"])


def test_one_token_chunks_without_a_role_chunk_need_no_note() -> None:
    rec = build_record(
        raw([(30, chunk("Hi")), (50, chunk(" there", finish="stop")), (51, final_usage(2) + DONE)]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    peers = _level([rec])["peers"]
    assert peers["notes"] == []
    assert peers["vllm"]["ttft_ms"]["mean"] == 30 == peers["guidellm"]["time_to_first_token_ms"][
        "mean"]  # fmt: skip


def test_failed_requests_count_in_no_throughput_but_their_time_does() -> None:
    ok = _role_stream()
    cut = raw([(5, chunk("", role=True)), (30, chunk("Hel"))])
    cut.end_ns = 400 * MS  # the cut request ends last: the level lasts until then
    bad = build_record(cut, level=0, stream=True, count=COUNT)
    assert bad.status == "failed"
    lv = _level([ok, bad])
    assert lv["duration_s"] == pytest.approx(0.4)
    assert lv["throughput"]["requests_per_s"] == pytest.approx(1 / 0.4)
    vllm = lv["peers"]["vllm"]
    assert (vllm["completed"], vllm["failed"]) == (1, 1)
    assert vllm["request_throughput"] == pytest.approx(1 / 0.4)
    assert vllm["output_throughput"] == pytest.approx(5 / 0.4)
    # aiperf's duration runs from the first request sent to the last text received
    assert lv["peers"]["aiperf"]["benchmark_duration_s"] == pytest.approx(0.1)


def test_guidellm_percentiles_are_the_weighted_inverse_cdf_not_numpys_interpolation() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert inverse_cdf_percentiles(values, [1, 1, 1, 1], [50, 90]) == [2.0, 4.0]
    assert float(np.percentile(values, 50)) == 2.5  # what llmkit, vLLM and aiperf report
    # weights: a request of 31 tokens weighs 30 in guidellm's ITL
    assert inverse_cdf_percentiles([10.0, 20.0], [3, 1], [50, 75, 76]) == [10.0, 10.0, 20.0]
    # equal values merge; zero weights drop out
    assert inverse_cdf_percentiles([5.0, 5.0, 9.0, 1.0], [1, 1, 2, 0], [50, 51]) == [5.0, 9.0]


def test_a_plain_response_has_no_peer_streaming_view() -> None:
    body = {"id": "x", "choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}}  # fmt: skip
    rec = build_record(raw([(40, json.dumps(body).encode())], headers_ns=30 * MS), level=0,
                       stream=False, count=COUNT)  # fmt: skip
    assert _level([rec])["peers"] == {}


@pytest.mark.slow
def test_peer_views_against_the_engine_send_log(bench_engine: Any) -> None:
    """Role chunk first, 3 tokens a chunk: each view's events match what the engine sent."""
    eng = bench_engine(EngineConfig.slow(50.0, tokens_per_chunk=3, role_chunk=True))
    result = run_bench(BenchConfig(base_url=eng.base_url, concurrency=(2,), requests=4,
                                   max_tokens=13, ignore_eos=True, prompt_tokens=(16,)))  # fmt: skip
    (level,) = result.levels
    assert level.ok == 4
    sent_tokens = 0
    chunk_gaps: list[float] = []  # vLLM's ITL events as the engine sent them
    got_gaps: list[float] = []  # the same, from the client's stamps
    for rec in level.records:
        log = sorted(
            (r for r in eng.send_log() if r.response_id == rec.response_id), key=lambda r: r.index
        )
        choice = [r for r in log if r.kind in ("role", "output")]
        outputs = [r for r in log if r.kind == "output"]
        assert [r.kind for r in log][:1] == ["role"] and "usage" in {r.kind for r in log}
        # vLLM's events: the role chunk and every output chunk, never the usage-only chunk
        assert len(rec.choice_times_ns) == len(choice)
        for got, sent in zip(rec.choice_times_ns, choice, strict=True):
            assert got >= sent.t_ns  # received after it was sent: one clock
        assert rec.text_span_ns is not None
        assert rec.text_span_ns[0] >= outputs[0].t_ns and rec.text_span_ns[1] >= outputs[-1].t_ns
        assert rec.choice_times_ns[0] <= rec.text_span_ns[0] == rec.first_token_ns
        sent_tokens += sum(r.tokens for r in outputs)
        chunk_gaps += [(b.t_ns - a.t_ns) / MS for a, b in itertools.pairwise(choice)]
        got_gaps += [(b - a) / MS for a, b in itertools.pairwise(rec.choice_times_ns)]
    stats = level.stats
    peers = stats["peers"]
    assert peers["vllm"]["total_output_tokens"] == sent_tokens == 4 * 13
    assert stats["throughput"]["completion_tokens"] == sent_tokens
    # without reasoning, guidellm's and aiperf's ITL is llmkit's TPOT, request by request
    assert peers["guidellm"]["inter_token_latency_ms"]["mean"] == pytest.approx(
        stats["tpot_ms"]["mean"])  # fmt: skip
    assert peers["aiperf"]["inter_token_latency_ms"]["mean"] == pytest.approx(
        stats["tpot_ms"]["mean"])  # fmt: skip
    # vLLM's ITL is one gap per chunk (role gap included): exactly the stamps' gaps (spread
    # over the chunk's 3 tokens it would be a third), whatever the machine's load did to them
    assert peers["vllm"]["itl_ms"]["p50"] == pytest.approx(np.percentile(got_gaps, 50))
    assert len(got_gaps) == len(chunk_gaps)


def test_tokens_reported_on_a_chunk_without_text_go_with_the_next_text() -> None:
    # per-chunk usage: the role chunk already counts 1 token, a mid-stream chunk with empty
    # text 1 more; per-token ITL must still cover every token the server counted
    rec = build_record(
        raw([
            (5, chunk("", role=True, usage=1)), (40, chunk("Hi", usage=2)),
            (60, chunk("", usage=3)), (80, chunk(" there", usage=4, finish="stop")),
            (81, final_usage(4) + DONE),
        ]),
        level=0, stream=True, count=COUNT,
    )  # fmt: skip
    assert rec.timing is not None and rec.token_source == "server" and not rec.itl_approximate
    assert rec.timing.chunk_tokens == (2, 2)
    assert rec.timing.itl_ms == [20.0, 20.0]  # 40 ms to " there", over its 2 tokens
    assert rec.output_tokens == 4 and rec.tpot_ms == pytest.approx(40 / 3)


@pytest.mark.slow
def test_reasoning_tokens_against_the_engine_send_log(bench_engine: Any) -> None:
    """A reasoning model: the peers' output counts reasoning, and so does completion_tokens."""
    eng = bench_engine(EngineConfig.slow(200.0, aliases=("deepseek-r1",)))
    result = run_bench(BenchConfig(base_url=eng.base_url, model="deepseek-r1", concurrency=(2,),
                                   requests=2, max_tokens=64, prompt_tokens=(16,)))  # fmt: skip
    (level,) = result.levels
    assert level.ok == 2
    sent = {"output": 0, "reasoning": 0}
    for rec in level.records:
        log = [r for r in eng.send_log() if r.response_id == rec.response_id]
        for kind in sent:
            sent[kind] += sum(r.tokens for r in log if r.kind == kind)
        first_reasoning = min(r.t_ns for r in log if r.kind == "reasoning")
        assert rec.text_span_ns is not None and rec.text_span_ns[0] >= first_reasoning
        assert rec.first_token_ns is not None and rec.first_token_ns > rec.text_span_ns[0]
    assert sent["reasoning"] > 0
    tp = level.stats["throughput"]
    assert (tp["output_tokens"], tp["reasoning_tokens"]) == (sent["output"], sent["reasoning"])
    peers = level.stats["peers"]
    assert peers["vllm"]["total_output_tokens"] == tp["completion_tokens"] == sum(sent.values())
    assert peers["aiperf"]["total_osl"] == sum(sent.values())
    ttft = level.stats["ttft_ms"]["max"]
    assert peers["guidellm"]["time_to_first_token_ms"]["max"] < ttft
    assert any(n.startswith("reasoning came before the answer") for n in peers["notes"])
