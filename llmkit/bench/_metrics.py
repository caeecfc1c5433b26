"""Statistics over request records: percentiles, throughput, goodput, client health.

Percentiles come from :mod:`llmkit.stats` (numpy's linear interpolation between
closest ranks), the convention of vLLM's ``bench serve``, so figures agree where definitions match.
Latency statistics cover successful requests only; per-token ITL and ICL are pooled
over all chunks of all successful requests (each token weighs the same), while TTFT,
TPOT and E2E are one value per request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llmkit.bench._config import SLO, LoadLevel
from llmkit.bench._peers import peer_views
from llmkit.bench._records import RequestRecord
from llmkit.stats import percentile, percentiles

__all__ = [
    "STAT_KEYS",
    "ClientStats",
    "describe",
    "meets_slo",
    "percentile",
    "summarize_level",
]

STAT_KEYS = ("mean", "p50", "p90", "p95", "p99", "max")

# When the client itself is the bottleneck its numbers are not the server's.
_CPU_WARN_PERCENT = 90.0
_LOOP_LAG_WARN_MS = 5.0
_SEND_LAG_WARN_MS = 10.0
_RATE_SHORT = 0.9  # achieved send rate below this share of the schedule's: warn


def _rates(level: LoadLevel, measured: Sequence[RequestRecord]) -> dict[str, float | None]:
    """Rate mode: the rate the schedule asked for and the rate requests actually left.

    Both over the same requests (first to last), so the arrival process's own noise
    does not count as a shortfall.
    """
    if level.mode != "rate" or len(measured) < 2:
        return {}
    sched = [r.scheduled_ns for r in measured]
    sent = [r.sent_ns for r in measured if r.sent_ns]
    span_sched = (max(sched) - min(sched)) / 1e9
    span_sent = (max(sent) - min(sent)) / 1e9 if len(sent) > 1 else 0.0
    return {
        "scheduled_rate": (len(sched) - 1) / span_sched if span_sched > 0 else None,
        "achieved_rate": (len(sent) - 1) / span_sent if span_sent > 0 else None,
    }


def describe(values: Iterable[float | None]) -> dict[str, float | None]:
    """``{mean, p50, p90, p95, p99, max}`` of the values that are not ``None``."""
    vals = [v for v in values if v is not None]
    if not vals:
        return dict.fromkeys(STAT_KEYS)
    p50, p90, p95, p99 = percentiles(vals, (50, 90, 95, 99))
    return {
        "mean": sum(vals) / len(vals),
        "p50": p50,
        "p90": p90,
        "p95": p95,
        "p99": p99,
        "max": max(vals),
    }


@dataclass(frozen=True)
class ClientStats:
    """The benchmark client's own load during a level.

    Attributes:
        wall_s: the level's wall-clock time.
        cpu_s: CPU seconds this process used meanwhile (all threads).
        loop_lag_ms: how late a 10 ms timer fired, sampled through the level; large
            values mean the event loop was too busy to stamp reads on time.
    """

    wall_s: float
    cpu_s: float
    loop_lag_ms: tuple[float, ...] = ()

    @property
    def cpu_percent(self) -> float:
        """CPU use as a share of one core (the event loop runs on one)."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def meets_slo(rec: RequestRecord, slo: SLO) -> bool:
    """Whether one request met every objective, each judged on its own values.

    TTFT and E2E count from the *scheduled* send time: a request that waited in the
    client's queue kept its user waiting too.
    """
    if not rec.ok:
        return False
    ttft, e2e = rec.ttft_scheduled_ms, rec.e2e_scheduled_ms
    if slo.ttft_ms is not None and (ttft is None or ttft > slo.ttft_ms):
        return False
    if slo.e2e_ms is not None and (e2e is None or e2e > slo.e2e_ms):
        return False
    # A one-token answer has no ITL/TPOT: nothing there to violate.
    itl, tpot = rec.mean_itl_ms, rec.tpot_ms
    if slo.itl_ms is not None and itl is not None and itl > slo.itl_ms:
        return False
    return not (slo.tpot_ms is not None and tpot is not None and tpot > slo.tpot_ms)


def summarize_level(
    level: LoadLevel,
    records: Sequence[RequestRecord],
    *,
    index: int,
    start_ns: int,
    client: ClientStats,
    slo: SLO | None,
    max_concurrency: int | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The ``summary.json`` entry of one level (see the README for every field).

    One helper per metric family: request counts, latency, throughput, goodput, tokens and
    the client's own health (which reads the others, so it comes last).
    """
    measured = [r for r in records if not r.warmup]
    ok = [r for r in measured if r.ok]
    failed = [r for r in measured if r.status == "failed"]
    ends = [r.end_ns for r in measured if r.end_ns is not None and r.status != "interrupted"]
    duration_s = (max(ends) - start_ns) / 1e9 if ends else 0.0
    per_s = (1.0 / duration_s) if duration_s > 0 else 0.0
    summary: dict[str, Any] = {
        "index": index,
        "label": level.label,
        "key": level.key,
        "load": {
            **level.to_dict(),
            "max_concurrency": max_concurrency,
            **_rates(level, measured),
        },
        "interrupted": interrupted,
        "requests": _request_counts(measured, ok, failed),
        "duration_s": duration_s,
        **_latency(ok),
        **_waiting(measured, ok),
        **_sizes(ok),
        "throughput": _throughput(ok, per_s),
        "tokens": _token_report(ok),
        "goodput": _goodput(ok, failed, slo, per_s),
        "peers": peer_views(ok, len(failed), duration_s),
    }
    summary["client"] = _client_report(level, measured, client, max_concurrency, summary)
    return summary


def _request_counts(
    measured: Sequence[RequestRecord], ok: Sequence[RequestRecord], failed: Sequence[RequestRecord]
) -> dict[str, Any]:
    return {
        "total": len(measured),
        "ok": len(ok),
        "failed": len(failed),
        "interrupted": sum(1 for r in measured if r.status == "interrupted"),
        "failed_reasons": dict(Counter(r.error or "unknown" for r in failed).most_common()),
    }


def _latency(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    """The server's latency: per request (TTFT, TPOT, E2E...) and pooled per token (ITL)."""
    streamed = [r for r in ok if r.streamed]
    timings = [r.timing for r in ok if r.timing is not None]
    itl: list[float] = []
    icl: list[float] = []
    for r in streamed:
        if r.timing is not None:
            itl.extend(r.timing.itl_ms)
            icl.extend(r.timing.icl_ms)
    return {
        "ttfb_ms": describe(t.ttfb_ms for t in timings),
        "ttft_ms": describe(t.ttft_ms for t in timings),
        "ttfr_ms": describe(t.ttfr_ms for t in timings),
        "itl_ms": describe(itl),
        "icl_ms": describe(icl),
        "request_itl_ms": describe(r.mean_itl_ms for r in streamed),
        "tpot_ms": describe(r.tpot_ms for r in streamed),
        "e2e_ms": describe(t.e2e_ms for t in timings),
    }


def _waiting(measured: Sequence[RequestRecord], ok: Sequence[RequestRecord]) -> dict[str, Any]:
    """Time spent before sending, and the latency a user saw from the scheduled time."""
    return {
        "send_lag_ms": describe(r.send_lag_ms for r in measured),
        "queue_wait_ms": describe(r.queue_wait_ms for r in measured),
        "ttft_scheduled_ms": describe(r.ttft_scheduled_ms for r in ok),
        "e2e_scheduled_ms": describe(r.e2e_scheduled_ms for r in ok),
    }


def _sizes(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    """Tokens per request, and the per-request output rate."""
    streamed = [r for r in ok if r.streamed]
    timings = [r.timing for r in ok if r.timing is not None]
    prompts = (r.prompt_tokens or r.prompt_tokens_sent for r in ok)
    return {
        "output_tokens": describe(float(r.output_tokens) for r in ok),
        "prompt_tokens": describe(float(p) for p in prompts if p is not None),
        "output_tps": describe(t.output_tps for t in timings),
        "tpot_undefined": sum(1 for r in streamed if r.tpot_ms is None),
    }


def _throughput(ok: Sequence[RequestRecord], per_s: float) -> dict[str, Any]:
    """Successful requests and their tokens per second of the level.

    ``output_tokens`` are the answers' tokens (what TPOT divides by); a reasoning model
    also generated ``reasoning_tokens``, and ``completion_tokens`` (the server's usage
    figure, both together) is what vLLM, guidellm and aiperf call output throughput.
    ``total_tokens_per_s`` counts every token the server read or wrote, like their totals.
    """
    out_tokens = sum(r.output_tokens for r in ok)
    reasoning = sum(r.timing.reasoning_tokens for r in ok if r.timing is not None)
    in_tokens = sum((r.prompt_tokens or r.prompt_tokens_sent or 0) for r in ok)
    completion = out_tokens + reasoning
    return {
        "requests_per_s": len(ok) * per_s,
        "output_tokens_per_s": out_tokens * per_s,
        "completion_tokens_per_s": completion * per_s,
        "input_tokens_per_s": in_tokens * per_s,
        "total_tokens_per_s": (completion + in_tokens) * per_s,
        "output_tokens": out_tokens,
        "reasoning_tokens": reasoning,
        "completion_tokens": completion,
        "input_tokens": in_tokens,
    }


def _goodput(
    ok: Sequence[RequestRecord], failed: Sequence[RequestRecord], slo: SLO | None, per_s: float
) -> dict[str, Any] | None:
    """Requests meeting every objective, among those that finished (``None``: no SLO)."""
    if slo is None or slo.is_empty():
        return None
    judged = len(ok) + len(failed)
    met = sum(1 for r in ok if meets_slo(r, slo))
    return {
        "slo": slo.to_dict(),
        "met": met,
        "share": met / judged if judged else 0.0,
        "requests_per_s": met * per_s,
    }


def _token_report(ok: Sequence[RequestRecord]) -> dict[str, Any]:
    mismatches = [(r.usage_mismatch, r.output_tokens) for r in ok if r.usage_mismatch is not None]
    flagged = [(d, n) for d, n in mismatches if d != 0]
    rel = [abs(d) / n for d, n in mismatches if n > 0]
    return {
        "source": dict(Counter(r.token_source for r in ok)),
        "itl_approximate": sum(1 for r in ok if r.itl_approximate),
        "usage_mismatch": len(flagged),
        "usage_mismatch_mean_pct": 100.0 * sum(rel) / len(rel) if rel else None,
    }


def _client_report(
    level: LoadLevel,
    measured: Sequence[RequestRecord],
    client: ClientStats,
    max_concurrency: int | None,
    summary: dict[str, Any],
) -> dict[str, Any]:
    lag = describe(client.loop_lag_ms)
    send_lag = summary["send_lag_ms"]
    warnings: list[str] = []
    bottleneck = False
    if client.cpu_percent >= _CPU_WARN_PERCENT:
        bottleneck = True
        warnings.append(
            f"client CPU at {client.cpu_percent:.0f}% of a core: the client may have been "
            "the bottleneck"
        )
    if lag["p99"] is not None and lag["p99"] > _LOOP_LAG_WARN_MS:
        bottleneck = True
        warnings.append(
            f"client event-loop lag p99 {lag['p99']:.1f} ms: the client's timestamps may be "
            "late by up to that much"
        )
    load = summary["load"]
    asked, achieved = load.get("scheduled_rate"), load.get("achieved_rate")
    waited = send_lag["p99"] is not None and send_lag["p99"] > _SEND_LAG_WARN_MS
    short = asked is not None and achieved is not None and achieved < _RATE_SHORT * asked
    if level.mode == "rate" and (waited or short):
        why = (
            f"--max-concurrency {max_concurrency} held them back"
            if max_concurrency is not None
            else "the client could not keep up"
        )
        if max_concurrency is None:
            bottleneck = True
        rate = f"sent {achieved:.3g} req/s where the schedule asked {asked:.3g}; " if short else ""
        warnings.append(
            f"{rate}requests waited client-side before sending (queue wait p50 "
            f"{send_lag['p50']:.1f} ms, p99 {send_lag['p99']:.1f} ms): {why}. SLOs and "
            "goodput count from the scheduled time; see ttft_scheduled_ms"
        )
    tokens = summary["tokens"]
    pct = tokens["usage_mismatch_mean_pct"]
    if tokens["itl_approximate"] and pct is not None and pct > 5:
        warnings.append(
            f"per-token ITL uses offline token counts that differ from server usage by "
            f"{pct:.0f}% on average; pass --tokenizer for this model's vocabulary"
        )
    reqs = summary["requests"]
    if reqs["failed"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in reqs["failed_reasons"].items())
        warnings.append(f"{reqs['failed']} of {reqs['total']} requests failed ({reasons})")
    return {
        "cpu_percent": client.cpu_percent,
        "cpu_s": client.cpu_s,
        "wall_s": client.wall_s,
        "loop_lag_ms": lag,
        "send_lag_ms": send_lag,
        "bottleneck": bottleneck,
        "warnings": warnings,
    }
