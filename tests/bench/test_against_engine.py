"""The harness against the real embedded engine over real HTTP, checked with its send log.

Tolerances suit a noisy shared 2-core machine: receive times are compared with the
engine's logged send times (same monotonic clock) rather than with wall-clock budgets.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from llmkit.bench import SLO, BenchConfig, BenchResult, run_bench
from llmkit.engine import EngineConfig, EngineHandle, Faults

MakeEngine = Callable[..., EngineHandle]
STEP_MS = 20.0  # EngineConfig.slow(50.0): 50 tokens/s


def _by_response(engine: EngineHandle) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for rec in engine.send_log():
        out[rec.response_id].append(rec)
    return out


def _logged_bodies(engine: EngineHandle, ids: set[str | None]) -> dict[str | None, int]:
    """Send times of whole (non-streamed) answers, once the engine has logged them all.

    The engine logs a write after it returns, so a client that already read the answer can
    look before the record is there; the wait only ends early, never passes a test.
    """
    deadline = time.monotonic() + 10
    while True:
        got = {r.response_id: r.t_ns for r in engine.send_log() if r.kind == "body"}
        if ids <= got.keys() or time.monotonic() > deadline:
            return got
        time.sleep(0.01)


def _run(engine: EngineHandle, **kw: Any) -> BenchResult:
    kw.setdefault("max_tokens", 12)
    kw.setdefault("prompt_tokens", (16,))
    return run_bench(BenchConfig(base_url=engine.base_url, ignore_eos=True, **kw))


@pytest.mark.slow
@pytest.mark.parametrize("tokens_per_chunk", [1, 3])
def test_timing_matches_the_send_log(bench_engine: MakeEngine, tokens_per_chunk: int) -> None:
    # 50 tokens/s: 20 ms steps, wide enough that a busy machine cannot blur chunks
    eng = bench_engine(EngineConfig.slow(50.0, tokens_per_chunk=tokens_per_chunk,
                                         role_chunk=True))  # fmt: skip
    result = _run(eng, concurrency=(4,), requests=8, max_tokens=13)
    (level,) = result.levels
    assert level.ok == 8
    sent = _by_response(eng)
    errors = []
    seen_before_next: list[bool] = []  # chunks the engine sent a step apart
    ttft_before_next: list[bool] = []
    sent_itl: list[float] = []  # per-token gaps as the engine sent them
    sent_icl: list[float] = []
    sent_tpot: list[float] = []
    got_itl: list[float] = []  # the same, from the client's stamps
    got_icl: list[float] = []
    got_tpot: list[float] = []
    for rec in level.records:
        assert rec.timing is not None and rec.response_id in sent
        log = sent[rec.response_id]
        assert log[0].kind == "role"  # role-only first chunk: must not count as TTFT
        outputs = [r for r in log if r.kind == "output"]
        assert list(rec.timing.chunk_tokens) == [r.tokens for r in outputs]
        assert rec.output_tokens == 13 and rec.token_source == "server"
        assert len(rec.timing.chunk_times_ns) == len(outputs)
        got_ns = list(rec.timing.chunk_times_ns)
        for got, want in zip(got_ns, outputs, strict=True):
            errors.append((got - want.t_ns) / 1e6)
        for i, (this, nxt) in enumerate(itertools.pairwise(outputs)):
            if nxt.t_ns - this.t_ns > STEP_MS / 2 * 1e6:
                seen_before_next.append(got_ns[i] < nxt.t_ns)
        tokens = sum(r.tokens for r in outputs)
        sent_tpot.append((outputs[-1].t_ns - outputs[0].t_ns) / 1e6 / (tokens - 1))
        got_tpot.append((got_ns[-1] - got_ns[0]) / 1e6 / (tokens - 1))
        for (prev, nxt), (t0, t1) in zip(
            itertools.pairwise(outputs), itertools.pairwise(got_ns), strict=True
        ):
            sent_icl.append((nxt.t_ns - prev.t_ns) / 1e6)
            sent_itl.extend([(nxt.t_ns - prev.t_ns) / 1e6 / nxt.tokens] * nxt.tokens)
            got_icl.append((t1 - t0) / 1e6)
            got_itl.extend([(t1 - t0) / 1e6 / nxt.tokens] * nxt.tokens)
        # TTFT is the first output chunk, not the role chunk
        first_out_ns = rec.first_token_ns
        assert first_out_ns is not None and first_out_ns >= outputs[0].t_ns
        assert rec.timing.ttft_ms == pytest.approx((first_out_ns - rec.sent_ns) / 1e6)
        assert rec.timing.ttft_ms > (log[0].t_ns - rec.sent_ns) / 1e6
        ttft_before_next.append(first_out_ns < outputs[1].t_ns)
        # the engine paced these chunks (its logged targets): a step apart, never early
        targets = [r.target_ns for r in outputs]
        assert min(b - a for a, b in itertools.pairwise(targets)) >= STEP_MS * 1e6
        assert all(r.t_ns >= r.target_ns for r in outputs)
    errs = np.array(errors)
    assert errs.min() >= 0  # never received before it was sent: one clock
    # Stamped on arrival, judged by order against the engine's log instead of a lag in ms:
    # most chunks are stamped before the engine even sent the next one. A client stamping
    # when the stream ends (or buffering) gets none; a descheduled one merges a few.
    assert sum(seen_before_next) >= len(seen_before_next) / 2, seen_before_next
    assert sum(ttft_before_next) >= len(ttft_before_next) / 2, ttft_before_next
    # ITL (per token: each chunk's gap spread over its tokens), ICL and TPOT are exactly
    # those of the stamps just checked against the log...
    stats = level.stats
    assert stats["itl_ms"]["p50"] == pytest.approx(np.percentile(got_itl, 50))
    assert stats["icl_ms"]["p50"] == pytest.approx(np.percentile(got_icl, 50))
    assert stats["tpot_ms"]["p50"] == pytest.approx(np.percentile(got_tpot, 50))
    # ...and near the engine's own (one decode step per token, however tokens were
    # chunked): a ratio, not milliseconds. ITL not spread over a chunk's 3 tokens would be
    # 3 times the engine's; a unit slip, a thousand.
    for name, engine_side in (("itl_ms", sent_itl), ("icl_ms", sent_icl), ("tpot_ms", sent_tpot)):
        ratio = stats[name]["p50"] / np.percentile(engine_side, 50)
        assert 0.5 < ratio < 2, (name, ratio)


def test_without_per_chunk_usage_itl_is_approximate(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig.slow(200.0, tokens_per_chunk=2))
    result = _run(eng, concurrency=(2,), requests=4, continuous_usage=False)
    (level,) = result.levels
    assert level.ok == 4
    assert level.stats["tokens"]["itl_approximate"] == 4
    assert all(r.itl_approximate and r.token_source == "server" for r in level.records)
    assert level.stats["itl_ms"]["p50"] is not None


@pytest.mark.slow
def test_failures_are_counted_with_reasons(bench_engine: MakeEngine) -> None:
    script = ("429", "500", "cut", "stall", "garbage", "non_json", "ok", "ok")
    faults = Faults(script=script, stall_s=1.0)
    eng = bench_engine(EngineConfig.slow(500.0, faults=faults))
    result = _run(eng, concurrency=(1,), requests=8, stall_timeout_s=0.3)
    (level,) = result.levels
    reqs = level.stats["requests"]
    assert reqs["ok"] == 2 and reqs["failed"] == 6
    assert reqs["failed_reasons"] == {
        "http_429": 1, "http_500": 1, "cut": 1, "stall": 1, "bad_sse": 1, "non_sse": 1,
    }  # fmt: skip
    assert any("6 of 8 requests failed" in w for w in result.summary()["warnings"])


def test_unreachable_server_fails_every_request_and_goes_on() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = run_bench(BenchConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m",
                                   concurrency=(2,), requests=4, connect_timeout_s=2))  # fmt: skip
    (level,) = result.levels
    assert level.stats["requests"]["failed_reasons"] == {"connect": 4}


@pytest.mark.slow
def test_rate_mode_records_scheduled_and_sent(bench_engine: MakeEngine) -> None:
    # Each answer takes 12 steps of 20 ms while a request is due every 25 ms on average.
    eng = bench_engine(EngineConfig.slow(50.0))
    # The SLO is 2 s for a 20 ms TTFT: only a hang misses it, never a busy machine.
    result = _run(eng, rates=(40.0,), requests=30, slo=SLO(ttft_ms=2000))
    (level,) = result.levels
    assert level.ok == 30
    recs = sorted(level.records, key=lambda r: r.index)
    scheduled = [r.scheduled_ns for r in recs]
    assert scheduled == sorted(scheduled)
    assert all(r.sent_ns >= r.scheduled_ns for r in recs)  # never before it was due
    lags = [(r.sent_ns - r.scheduled_ns) / 1e6 for r in recs]
    assert level.stats["send_lag_ms"]["p50"] == pytest.approx(np.percentile(lags, 50))
    # Open loop, judged by order instead of a lag in ms (a loaded machine makes any lag):
    # a request goes out on its schedule, not when the answer before it ends, so nearly
    # all are sent while that answer is still streaming. A closed loop sends none so.
    overlapping = sum(b.sent_ns < (a.end_ns or 0) for a, b in itertools.pairwise(recs))
    assert overlapping >= len(recs) / 2, overlapping
    assert level.stats["goodput"]["share"] == 1.0
    frame = result.to_frame()
    assert {"scheduled_ms", "sent_ms", "first_token_ms", "last_token_ms"} <= set(frame.columns)


@pytest.mark.slow
def test_plain_mode_and_duration(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig.slow(500.0))
    result = _run(eng, concurrency=(2,), duration_s=0.6, stream=False)
    (level,) = result.levels
    assert level.ok >= 2 and level.failed == 0
    assert all(not r.streamed and r.output_tokens == 12 for r in level.records)
    assert level.stats["itl_ms"]["p50"] is None
    # 12 steps of 2 ms, never sent early (the engine's targets): a floor, not a budget
    assert level.stats["e2e_ms"]["p50"] >= 12 * 2
    # The engine wrote each answer inside the span the client measured (one clock)...
    bodies = _logged_bodies(eng, {r.response_id for r in level.records})
    for rec in level.records:
        assert rec.timing is not None and rec.end_ns is not None
        assert rec.sent_ns <= bodies[rec.response_id] <= rec.end_ns
        assert rec.timing.e2e_ms == pytest.approx((rec.end_ns - rec.sent_ns) / 1e6)
    # ...and two workers, one request at a time each, cannot spend more than twice the
    # level's own span: an E2E counted from the wrong start or in the wrong unit would.
    span_ms = (
        max(r.end_ns or 0 for r in level.records) - min(r.sent_ns for r in level.records)
    ) / 1e6
    assert sum(r.timing.e2e_ms for r in level.records if r.timing) <= 2 * span_ms


@pytest.mark.slow
def test_ttft_rises_once_the_batch_is_full_and_find_max_sees_it(bench_engine: MakeEngine) -> None:
    # 50 tokens/s, 12 tokens: 240 ms per request. In the batch, TTFT is one 20 ms step; a
    # request queued behind a full batch waits ~240 ms. The SLO sits between with 100 ms
    # or more to spare on both sides, so a loaded machine (whose sleeps only ever run
    # late) cannot move a level across it; at 200 tokens/s it had 35 ms and did.
    eng = bench_engine(EngineConfig.slow(50.0, max_batch=2))
    slo = SLO(ttft_ms=150)
    result = _run(eng, concurrency=(1,), requests=6, slo=slo, find_max=True, find_max_limit=8)
    fm = result.find_max
    assert fm is not None and fm["best"] == 2.0
    ttft = {lv.level.value: lv.stats["ttft_ms"]["p50"] for lv in result.levels}
    assert sorted(ttft) == [1.0, 2.0, 3.0, 4.0]  # doubled to a failure, then bisected
    assert ttft[4.0] > 3 * ttft[1.0]  # queued behind a full batch


@pytest.mark.slow
def test_prompt_length_sweep_and_warmup(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig(prefill_ms_per_token=0.05, decode_step_ms=1,
                                    decode_ms_per_seq=0, decode_ms_per_kv_token=0))  # fmt: skip
    result = _run(eng, concurrency=(1,), requests=4, prompt_tokens=(16, 1024), warmup=2,
                  max_tokens=2, random_prefix=True)  # fmt: skip
    short, long_ = result.levels
    assert all(not r.warmup for lv in result.levels for r in lv.records)
    assert short.stats["prompt_tokens"]["p50"] < 100 < long_.stats["prompt_tokens"]["p50"]
    # The first token is never due before its prefill (0.05 ms per prompt token) is paid:
    # a floor from the engine's schedule instead of a difference of two noisy medians.
    for lv in (short, long_):
        for rec in lv.records:
            assert rec.timing is not None and rec.prompt_tokens is not None
            assert rec.timing.ttft_ms >= 0.05 * rec.prompt_tokens
    assert long_.stats["ttft_ms"]["p50"] > short.stats["ttft_ms"]["p50"]
