"""The client against the embedded engine over real HTTP: answers, timing, retries, errors."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sendlog import settled_sends

import llmkit
from llmkit.engine import Faults
from llmkit.llm import Client, RetryPolicy, Timeouts, read_log

FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05)
MakeEngine = Callable[..., Any]


def _client(engine: Any, **kwargs: Any) -> Client:
    kwargs.setdefault("retry", FAST_RETRY)
    return Client(base_url=engine.base_url, model="llmkit-sim", **kwargs)


def test_streamed_chat_returns_text_usage_and_timing(engine: Any) -> None:
    with _client(engine) as client:
        result = client.chat("Tell me about the weather.", max_tokens=20)
    assert result.text
    assert result.finish_reason in ("stop", "length")
    assert result.usage is not None
    t = result.timing
    assert t.token_source == "server"
    assert t.output_tokens == result.usage["completion_tokens"]
    assert t.ttfb_ms is not None and t.ttft_ms is not None and t.e2e_ms is not None
    assert 0 <= t.ttfb_ms <= t.ttft_ms <= t.e2e_ms
    assert len(result.attempts) == 1 and result.attempts[0].error is None


def test_non_streamed_chat(engine: Any) -> None:
    with _client(engine) as client:
        result = client.chat("Hello there", stream=False, max_tokens=8)
    assert result.text and result.timing.streamed is False
    assert result.timing.output_tokens == result.usage["completion_tokens"]  # type: ignore[index]


def test_max_tokens_marks_truncation(engine: Any) -> None:
    with _client(engine) as client:
        result = client.chat("Tell me a long story", max_tokens=3, ignore_eos=True)
    assert result.timing.output_tokens == 3
    assert result.finish_reason == "length" and result.truncated


def test_measured_timing_agrees_with_engine_send_times(make_engine: MakeEngine) -> None:
    step_ms = 40.0  # wide enough that a busy machine cannot blur one chunk into the next
    eng = make_engine(
        decode_step_ms=step_ms, prefill_ms_per_token=0.0, send_log=True, tokens_per_chunk=1
    )
    with _client(eng) as client:
        result = client.chat("Tell me a story", max_tokens=12, ignore_eos=True)
    sent = settled_sends(eng, result.response_id, "output")
    received = list(result.timing.chunk_times_ns)
    assert len(sent) == len(received) == 12
    # Same monotonic clock: nothing arrives before it was sent, and each chunk is stamped
    # when it arrives (before the next one was even sent), not when the stream ends. Only
    # chunks the engine sent a step apart can be told apart: one that fell behind sends
    # its backlog at once (the log says so), and those arrive together.
    assert all(r >= s for r, s in zip(received, sent, strict=True))
    spaced = [i for i in range(11) if sent[i + 1] - sent[i] > step_ms / 2 * 1e6]
    # Judged by that order, not by a lag in ms: a descheduled client merges a few pairs,
    # one stamping late (at the end, or a chunk behind) gets none before the next send.
    assert spaced, "the engine fell behind at every step: no chunk to judge"
    seen_before_next = sum(received[i] < sent[i + 1] for i in spaced)
    assert seen_before_next >= len(spaced) / 2, (seen_before_next, len(spaced))
    # The gaps reported are those between the stamps just checked against the log (one
    # token a chunk: ITL is ICL).
    received_gaps = [(b - a) / 1e6 for a, b in itertools.pairwise(received)]
    assert result.timing.icl_ms == pytest.approx(received_gaps)
    assert result.timing.itl_ms == pytest.approx(received_gaps)


@pytest.mark.parametrize("script", [("429", "ok"), ("500", "500", "ok"), ("cut", "ok")])
def test_retries_transient_failures(make_engine: MakeEngine, script: tuple[str, ...]) -> None:
    eng = make_engine(faults=Faults(script=script, retry_after_s=0.0))
    with _client(eng) as client:
        result = client.chat("Hello", max_tokens=5)
    assert len(result.attempts) == len(script)
    assert [a.error is None for a in result.attempts] == [False] * (len(script) - 1) + [True]
    assert result.text


def test_retry_after_is_honoured(make_engine: MakeEngine) -> None:
    eng = make_engine(faults=Faults(script=("429", "ok"), retry_after_s=0.3))
    with _client(eng, retry=RetryPolicy(initial_wait=0.0, max_wait=5.0)) as client:
        result = client.chat("Hello", max_tokens=5)
    first, second = result.attempts
    assert first.error_type == "RateLimitError" and first.status == 429
    assert first.wait_s == pytest.approx(0.3)
    assert (second.started_ns - first.started_ns) / 1e9 >= 0.3


def test_sdk_does_not_retry_on_its_own(make_engine: MakeEngine) -> None:
    """Nothing retried twice by two layers: one HTTP request per recorded attempt."""
    eng = make_engine(faults=Faults(script=("500", "500", "500", "500", "500", "500")))
    with _client(eng, retry=RetryPolicy(max_attempts=3, initial_wait=0.0)) as client:
        with pytest.raises(llmkit.ServerError) as info:
            client.chat("Hello", max_tokens=5)
    assert info.value.attempts == 3
    assert eng.requests_served() == 3


def test_stream_cut_after_text_is_not_retried(make_engine: MakeEngine) -> None:
    eng = make_engine(faults=Faults(script=("cut", "ok")))
    with _client(eng) as client:
        stream = client.stream("Tell me a story", max_tokens=40, ignore_eos=True)
        got: list[str] = []
        with pytest.raises(llmkit.StreamInterruptedError) as info:
            for delta in stream:
                got.append(delta)
    assert got, "some text reached the caller before the cut"
    assert info.value.attempts == 1


def test_stream_yields_deltas_and_result(engine: Any) -> None:
    with _client(engine) as client, client.stream("Hello there", max_tokens=10) as stream:
        text = "".join(stream)
    assert stream.result is not None and stream.result.text == text


@pytest.mark.parametrize(
    ("kwargs", "error", "attempts"),
    [
        ({"model": "no-such-model"}, llmkit.ModelNotFoundError, 1),
        ({"api_key": "wrong-key-123456"}, llmkit.AuthError, 1),
    ],
)
def test_clear_errors(
    make_engine: MakeEngine, kwargs: dict[str, Any], error: type[Exception], attempts: int
) -> None:
    eng = make_engine(api_key="right-key-abcdef")
    params = {"api_key": "right-key-abcdef", "model": "llmkit-sim", **kwargs}
    with Client(base_url=eng.base_url, retry=FAST_RETRY, **params) as client:  # type: ignore[arg-type]
        with pytest.raises(error) as info:
            client.chat("Hello", max_tokens=5)
    assert info.value.attempts == attempts  # type: ignore[attr-defined]
    assert eng.base_url in str(info.value)
    assert "right-key-abcdef" not in str(info.value)
    assert "wrong-key-123456" not in str(info.value)


def test_refused_connection_names_endpoint_and_attempts(free_port: int) -> None:
    url = f"http://127.0.0.1:{free_port}/v1"
    with Client(base_url=url, model="m", retry=RetryPolicy(max_attempts=2, initial_wait=0.0)) as c:
        with pytest.raises(llmkit.ConnectError, match="after 2 attempts") as info:
            c.chat("Hello")
    assert url in str(info.value)


@pytest.mark.parametrize("fault", ["non_json", "garbage"])
def test_bad_bodies_are_bad_response_errors(make_engine: MakeEngine, fault: str) -> None:
    eng = make_engine(faults=Faults(script=(fault,) * 8))
    with _client(eng) as client, pytest.raises(llmkit.BadResponseError):
        client.chat("Hello", max_tokens=20, stream=fault != "non_json")


@pytest.mark.slow
def test_stall_hits_the_stall_timeout(make_engine: MakeEngine) -> None:
    stall_s = 10.0
    eng = make_engine(faults=Faults(script=("stall",) * 4, stall_s=stall_s))
    timeouts = Timeouts(stall=0.3, total=60)
    policy = RetryPolicy(max_attempts=2, initial_wait=0.0)
    start = time.monotonic()
    with _client(eng, timeouts=timeouts, retry=policy) as client:
        with pytest.raises(llmkit.CallTimeoutError, match="stall") as info:
            client.chat("Tell me a story", max_tokens=30, ignore_eos=True)
    assert info.value.attempts == 2
    # Two attempts that sat out the engine's stall would take 20 s; the stall timer ended
    # both in 0.3 s each. Half a stall is a bound only such a wait crosses.
    assert time.monotonic() - start < stall_s / 2


@pytest.mark.slow
def test_total_timeout_caps_the_whole_call(make_engine: MakeEngine) -> None:
    attempts, retry_after_s = 40, 0.4
    eng = make_engine(faults=Faults(script=("429",) * attempts, retry_after_s=retry_after_s))
    policy = RetryPolicy(max_attempts=attempts, initial_wait=0.0, max_wait=1.0)
    start = time.monotonic()
    with _client(eng, timeouts=Timeouts(total=1.0), retry=policy) as client:
        with pytest.raises(llmkit.RateLimitError) as info:
            client.chat("Hello", max_tokens=5)
    # Unbounded, the 40 attempts would wait 39 x 0.4 s = 15.6 s for the server's
    # Retry-After; half of that is a bound only a missing deadline crosses.
    assert time.monotonic() - start < (attempts - 1) * retry_after_s / 2
    assert 1 < info.value.attempts < attempts
    assert eng.requests_served() == info.value.attempts


def test_call_log_records_calls_without_the_key(make_engine: MakeEngine, tmp_path: Path) -> None:
    secret = "sk-test-secret-998877"
    eng = make_engine(api_key=secret, faults=Faults(script=("500", "ok")))
    db = tmp_path / "calls.db"
    with Client(
        base_url=eng.base_url, api_key=secret, model="llmkit-sim", log=db, retry=FAST_RETRY
    ) as client:
        client.chat("Hello", max_tokens=5)
        with pytest.raises(llmkit.ModelNotFoundError):
            client.chat("Hello", model="nope", max_tokens=5)
    frame = read_log(db)
    assert list(frame["attempts"]) == [2, 1]
    assert frame["ttft_ms"].iloc[0] > 0 and frame["response_text"].iloc[0]
    assert frame["error_type"].iloc[1] == "ModelNotFoundError"
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert secret not in dump


def test_reasoning_is_timed_separately(make_engine: MakeEngine) -> None:
    eng = make_engine()
    with _client(eng) as client:
        result = client.chat("Think step by step: what is 2+2?", max_tokens=200)
    if not result.reasoning:
        pytest.fail("the default scenario should answer 'think step by step' with reasoning")
    assert "<think>" not in result.text
    assert result.timing.ttfr_ms is not None and result.timing.ttft_ms is not None
    assert result.timing.ttfr_ms < result.timing.ttft_ms


def test_missing_model_is_a_config_error(engine: Any) -> None:
    with Client(base_url=engine.base_url) as client, pytest.raises(llmkit.ConfigError):
        client.chat("Hello")


def test_bad_base_url_is_a_config_error() -> None:
    with pytest.raises(llmkit.ConfigError, match="not an http"):
        Client(base_url="localhost:8000", model="m")


def test_retry_after_longer_than_allowed_is_never_cut_short(make_engine: MakeEngine) -> None:
    retry_after_s = 20.0
    eng = make_engine(faults=Faults(script=("429", "ok"), retry_after_s=retry_after_s))
    start = time.monotonic()
    with _client(eng, retry=RetryPolicy(max_wait=0.5)) as client:
        with pytest.raises(llmkit.RateLimitError, match="retry after 20 s") as info:
            client.chat("Hello", max_tokens=5)
    # Gave up at once: a client that sat out the 20 s it was asked to wait crosses half of it.
    assert time.monotonic() - start < retry_after_s / 2
    assert info.value.attempts == 1 and eng.requests_served() == 1


def test_retry_after_beyond_the_deadline_says_so(make_engine: MakeEngine) -> None:
    # The deadline's own stop once ran first and the error never said why it gave up.
    eng = make_engine(faults=Faults(script=("429", "ok"), retry_after_s=5.0))
    with _client(eng, timeouts=Timeouts(total=2.0), retry=RetryPolicy(max_wait=20)) as client:
        with pytest.raises(llmkit.RateLimitError, match="retry after 5 s") as info:
            client.chat("Hello", max_tokens=5)
    assert info.value.attempts == 1 and eng.requests_served() == 1
