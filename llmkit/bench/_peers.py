"""Each level's figures as other benchmarks define them, from the same timestamps.

``vllm bench serve``, guidellm and aiperf differ from llmkit (and from each other) in what
counts as the first token, whether ITL is per chunk or per request, which tokens count and
how percentiles interpolate. Given the same requests, these views reproduce each peer's
definition, so a user can line llmkit's numbers up with a peer's run on the same server
without guessing (``docs/glossary.md`` has the table; ``benchmarks/peer_bench.py`` runs
the peers themselves side by side).

Definitions, read from each peer's source:

vLLM ``bench serve`` (``vllm/benchmarks/serve.py`` ``calculate_metrics`` and
``lib/endpoint_request_func.py``)
    TTFT: sent → first event whose ``choices`` is non-empty (a role-only chunk counts);
    ITL: gaps between consecutive such events, one value per chunk; E2EL: sent → the last
    such event; TPOT: ``(E2EL − TTFT) / (completion_tokens − 1)`` for answers over one
    token; tokens: the server's ``completion_tokens`` (reasoning included); throughput:
    successful requests and their tokens over the wall time from before the first request
    to the last response; numpy's linear percentiles.
guidellm (``schemas/base/request_stats.py``, ``backends/openai/http.py``)
    TTFT: first event carrying text, reasoning or answer; TTFOT: first answer text; ITL:
    per request ``(last − first text event) / (tokens − 1)``, pooled weighted by
    ``tokens − 1``; TPOT: ``(last text event − sent) / tokens``, weighted by tokens;
    request latency: sent → the stream's end (``[DONE]`` read); percentiles: the weighted
    inverse CDF, no interpolation.
aiperf (``metrics/types/*.py``)
    TTFT: first event carrying text or reasoning; request latency: sent → last such event;
    ITL: ``(request latency − TTFT) / (OSL − 1)`` per request; OSL: answer plus reasoning
    tokens (the server's with ``--use-server-token-count``); inter-chunk latency: gaps
    between those events; benchmark duration: first request sent → last response; numpy's
    linear percentiles.
inference-perf (``inference_perf/reportgen/base.py``)
    TTFT: first answer text; TPOT: ``(last − first answer token) / (tokens − 1)``, both
    llmkit's; ITL: per token with every token of a chunk stamped at the chunk (the gap,
    then zeros); NTPOT: ``(response end − sent) / tokens``; numpy's linear percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from llmkit.bench._records import RequestRecord
from llmkit.stats import percentiles

__all__ = ["PEER_STAT_KEYS", "inverse_cdf_percentiles", "peer_views"]

PEER_STAT_KEYS = ("mean", "p50", "p90", "p95", "p99", "max")
_QS = (50, 90, 95, 99)
_MS = 1_000_000
_Floats = npt.NDArray[np.float64]


def _linear(values: Sequence[float] | _Floats) -> dict[str, float | None]:
    """Mean, numpy-linear percentiles and population std (vLLM's and aiperf's convention)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return dict.fromkeys((*PEER_STAT_KEYS, "std"))
    p50, p90, p95, p99 = percentiles(arr, _QS)
    return {"mean": float(arr.mean()), "p50": p50, "p90": p90, "p95": p95,
            "p99": p99, "max": float(arr.max()), "std": float(arr.std())}  # fmt: skip


def _pooled(parts: list[_Floats]) -> _Floats:
    """Per-request arrays as one (8 bytes a value: pooled per-token lists get long)."""
    return np.concatenate(parts) if parts else np.empty(0)


def inverse_cdf_percentiles(
    values: Sequence[float], weights: Sequence[float], qs: Sequence[float]
) -> list[float]:
    """guidellm's percentiles: the smallest value whose weighted CDF reaches ``q``/100.

    Equal values merge their weights and zero weights drop out, as guidellm does; with no
    positive weight every value weighs the same.
    """
    vals = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    uniq, inverse = np.unique(vals, return_inverse=True)
    merged = np.zeros_like(uniq)
    np.add.at(merged, inverse, w)
    keep = merged > 0
    uniq, merged = uniq[keep], merged[keep]
    if uniq.size == 0:
        uniq, merged = np.unique(vals), np.ones(np.unique(vals).size)
    cdf = np.cumsum(merged / merged.sum())
    last = uniq.size - 1
    return [float(uniq[min(int(np.searchsorted(cdf, q / 100, side="left")), last)]) for q in qs]


def _weighted(values: Sequence[float], weights: Sequence[float]) -> dict[str, float | None]:
    """Weighted mean and inverse-CDF percentiles (guidellm's convention)."""
    total = float(sum(weights))
    if not values or total <= 0:
        return dict.fromkeys(PEER_STAT_KEYS)
    p50, p90, p95, p99 = inverse_cdf_percentiles(values, weights, _QS)
    mean = sum(v * w for v, w in zip(values, weights, strict=True)) / total
    return {"mean": mean, "p50": p50, "p90": p90, "p95": p95, "p99": p99, "max": max(values)}


def _completion_tokens(r: RequestRecord) -> int:
    """The server's ``completion_tokens``: the answer's tokens plus reasoning tokens."""
    reasoning = r.timing.reasoning_tokens if r.timing is not None else 0
    return r.output_tokens + reasoning


def _ms(a: int, b: int) -> float:
    return (b - a) / _MS


def _vllm(ok: Sequence[RequestRecord], failed: int, duration_s: float) -> dict[str, Any]:
    ttft: list[float] = []
    e2el: list[float] = []
    tpot: list[float] = []
    itl: list[_Floats] = []
    out = 0
    inp = 0
    for r in ok:
        times = r.choice_times_ns
        if not times:
            continue
        tokens = _completion_tokens(r)
        out += tokens
        inp += r.prompt_tokens or r.prompt_tokens_sent or 0
        first, last = _ms(r.sent_ns, times[0]), _ms(r.sent_ns, times[-1])
        ttft.append(first)
        e2el.append(last)
        if tokens > 1:
            tpot.append((last - first) / (tokens - 1))
        itl.append(np.diff(np.asarray(times, dtype=np.int64)) / _MS)
    per_s = 1 / duration_s if duration_s > 0 else 0.0
    return {
        "completed": len(ttft),
        "failed": failed,
        "duration_s": duration_s,
        "total_output_tokens": out,
        "request_throughput": len(ttft) * per_s,
        "output_throughput": out * per_s,
        "total_token_throughput": (out + inp) * per_s,
        "ttft_ms": _linear(ttft),
        "tpot_ms": _linear(tpot),
        "itl_ms": _linear(_pooled(itl)),
        "e2el_ms": _linear(e2el),
    }


def _guidellm(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    ttft: list[float] = []
    ttfot: list[float] = []
    itl: list[tuple[float, float]] = []
    tpot: list[tuple[float, float]] = []
    latency: list[float] = []
    for r in ok:
        span = r.text_span_ns
        if span is None or r.end_ns is None:
            continue
        tokens = _completion_tokens(r)
        ttft.append(_ms(r.sent_ns, span[0]))
        if r.first_token_ns is not None:
            ttfot.append(_ms(r.sent_ns, r.first_token_ns))
        if tokens > 1:
            itl.append((_ms(span[0], span[1]) / (tokens - 1), tokens - 1))
        if tokens > 0:
            tpot.append((_ms(r.sent_ns, span[1]) / tokens, tokens))
        latency.append(_ms(r.sent_ns, r.end_ns) / 1000)
    ones = [1.0] * len(ttft)
    return {
        "time_to_first_token_ms": _weighted(ttft, ones),
        "time_to_first_output_token_ms": _weighted(ttfot, [1.0] * len(ttfot)),
        "inter_token_latency_ms": _weighted([v for v, _ in itl], [w for _, w in itl]),
        "time_per_output_token_ms": _weighted([v for v, _ in tpot], [w for _, w in tpot]),
        "request_latency_s": _weighted(latency, [1.0] * len(latency)),
    }


def _aiperf(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    ttft: list[float] = []
    latency: list[float] = []
    itl: list[float] = []
    osl = 0
    starts: list[int] = []
    ends: list[int] = []
    for r in ok:
        span = r.text_span_ns
        if span is None:
            continue
        tokens = _completion_tokens(r)
        osl += tokens
        first, last = _ms(r.sent_ns, span[0]), _ms(r.sent_ns, span[1])
        ttft.append(first)
        latency.append(last)
        if tokens > 1:
            itl.append((last - first) / (tokens - 1))
        starts.append(r.sent_ns)
        ends.append(span[1])
    duration_s = (max(ends) - min(starts)) / 1e9 if starts else 0.0
    per_s = 1 / duration_s if duration_s > 0 else 0.0
    return {
        "benchmark_duration_s": duration_s,
        "total_osl": osl,
        "request_throughput": len(latency) * per_s,
        "output_token_throughput": osl * per_s,
        "time_to_first_token_ms": _linear(ttft),
        "inter_token_latency_ms": _linear(itl),
        "request_latency_ms": _linear(latency),
    }


def _notes(ok: Sequence[RequestRecord], views: dict[str, Any]) -> list[str]:
    """Where this server's streams make a peer's figure differ from llmkit's, in words."""
    notes: list[str] = []
    early = [  # a role-only or empty chunk before any text, reasoning included
        _ms(r.choice_times_ns[0], r.text_span_ns[0])
        for r in ok
        if r.choice_times_ns and r.text_span_ns is not None
    ]
    vttft = views["vllm"]["ttft_ms"]["p50"]
    if early and vttft is not None and float(np.median(early)) >= 1.0:
        notes.append(
            f"a chunk without text came {float(np.median(early)):.1f} ms (p50) before the "
            f"first text: vLLM's bench serve takes it as the first token (TTFT p50 "
            f"{vttft:.1f} ms, peers.vllm)"
        )
    tokens = sum(r.output_tokens for r in ok)
    chunks = sum(r.chunks for r in ok)
    if chunks and tokens / chunks >= 1.5:
        itl = views["vllm"]["itl_ms"]["mean"]
        shown = "" if itl is None else f" ({itl:.1f} ms mean, peers.vllm.itl_ms)"
        notes.append(
            f"{tokens / chunks:.1f} tokens a chunk: vLLM's ITL is one gap per chunk{shown}, "
            "llmkit's per token"
        )
    if any(r.timing is not None and r.timing.reasoning_tokens for r in ok):
        gl = views["guidellm"]["time_to_first_token_ms"]["p50"]
        notes.append(
            "reasoning came before the answer: vLLM, guidellm and aiperf time TTFT to the "
            f"first reasoning text (p50 {gl:.1f} ms) and count reasoning tokens as output"
            if gl is not None
            else "reasoning came before the answer: the peers count it as output"
        )
    return notes


def _inference_perf(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    itl: list[_Floats] = []
    ntpot: list[float] = []
    for r in ok:
        t = r.timing
        if t is None or r.end_ns is None or not t.chunk_times_ns:
            continue
        # every token of a chunk is stamped at the chunk: the gap, then zeros inside it
        n = len(t.chunk_times_ns)
        tokens = np.ones(n, dtype=np.int64)
        known = np.asarray(t.chunk_tokens[:n], dtype=np.int64)
        tokens[: known.size] = np.maximum(known, 1)
        stamps = np.repeat(np.asarray(t.chunk_times_ns, dtype=np.int64), tokens)
        itl.append(np.diff(stamps) / _MS)
        if r.output_tokens > 0:
            ntpot.append(_ms(r.sent_ns, r.end_ns) / r.output_tokens)
    return {
        "time_to_first_token_ms": _linear([r.ttft_ms for r in ok if r.ttft_ms is not None]),
        "time_per_output_token_ms": _linear([r.tpot_ms for r in ok if r.tpot_ms is not None]),
        "inter_token_latency_ms": _linear(_pooled(itl)),
        "normalized_time_per_output_token_ms": _linear(ntpot),
    }


def peer_views(ok: Sequence[RequestRecord], failed: int, duration_s: float) -> dict[str, Any]:
    """The ``peers`` entry of a level in ``summary.json``: one dict per peer benchmark.

    ``notes`` says, in words, where this level's streams make a peer's figure differ from
    llmkit's. Only streamed requests have the peers' timings; ``--no-stream`` gets ``{}``.
    """
    streamed = [r for r in ok if r.streamed]
    if not streamed:
        return {}
    views: dict[str, Any] = {
        "vllm": _vllm(streamed, failed, duration_s),
        "guidellm": _guidellm(streamed),
        "aiperf": _aiperf(streamed),
        "inference_perf": _inference_perf(streamed),
    }
    views["notes"] = _notes(streamed, views)
    return views
