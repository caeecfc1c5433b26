"""The observer that turns llmkit's events into OpenTelemetry metrics.

Histograms get explicit bucket bounds (views) that include every SLO threshold, so a
burn-rate rule can count "requests over 0.8 s" exactly; OpenTelemetry's defaults have no
0.8 s bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from llmkit._observe import CallEvent, EvalScoreEvent, StructuredEvent
from llmkit.watch._guard import AttributeGuard
from llmkit.watch._names import ATTR, Names
from llmkit.watch._slo import Slo

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.sdk.metrics.view import View

__all__ = ["MetricsRecorder", "bucket_views"]

LATENCY_BOUNDS = (
    0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.16, 0.25, 0.32, 0.5, 0.64,
    0.8, 1.0, 1.28, 2.0, 2.56, 5.0, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
# The conventions' advice for token counts.
TOKEN_BOUNDS = tuple(float(4**i) for i in range(14))
SCORE_BOUNDS = tuple(i / 10 for i in range(11))


_CHUNK_ATTRS = (
    ATTR.OPERATION,
    ATTR.PROVIDER,
    ATTR.REQUEST_MODEL,
    ATTR.RESPONSE_MODEL,
    ATTR.VARIANT,
)


def _bounds(base: Iterable[float], extra: Iterable[float]) -> list[float]:
    return sorted({float(b) for b in (*base, *extra)})


def bucket_views(names: Names, slo: Slo) -> list[View]:
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

    def view(name: str, bounds: Sequence[float]) -> View:
        return View(
            instrument_name=name, aggregation=ExplicitBucketHistogramAggregation(list(bounds))
        )

    return [
        view(names.duration, _bounds(LATENCY_BOUNDS, slo.thresholds("duration"))),
        view(names.ttft, _bounds(LATENCY_BOUNDS, slo.thresholds("ttft"))),
        view(names.itl, _bounds(LATENCY_BOUNDS, slo.thresholds("itl"))),
        view(names.tpot, _bounds(LATENCY_BOUNDS, slo.thresholds("itl"))),
        *(view(n, TOKEN_BOUNDS) for n in dict.fromkeys([names.input_tokens, names.output_tokens])),
        view(names.eval_score, SCORE_BOUNDS),
    ]


class MetricsRecorder:
    """Records each event on the instruments of ``meter`` (names from ``names``)."""

    def __init__(self, meter: Meter, names: Names, provider: str, guard: AttributeGuard) -> None:
        self.names = names
        self.provider = provider
        self.guard = guard
        hist = meter.create_histogram
        self.duration = hist(names.duration, unit="s", description="GenAI operation duration")
        self.ttft = hist(names.ttft, unit="s", description="Time to the first chunk of a stream")
        self.itl = hist(names.itl, unit="s", description="Time between output chunks")
        self.input_tokens = hist(names.input_tokens, unit="{token}", description="Tokens used")
        self.output_tokens = (
            self.input_tokens
            if names.output_tokens == names.input_tokens
            else hist(names.output_tokens, unit="{token}", description="Output tokens")
        )
        self.tpot = hist(names.tpot, unit="s", description="Time per output token after the first")
        self.finish = meter.create_counter(
            names.finish_reasons, unit="{response}", description="Responses by finish reason"
        )
        self.outcomes = meter.create_counter(
            names.structured_outcomes, unit="{call}", description="Structured calls by stage"
        )
        self.rules = meter.create_counter(
            names.structured_rules, unit="{repair}", description="Repair rules that fired"
        )
        self.reprompts = meter.create_counter(
            names.reprompts, unit="{call}", description="Re-prompts sent"
        )
        self.score = hist(names.eval_score, unit="1", description="Eval scores (0..1)")

    def _common(self, event: CallEvent) -> dict[str, Any]:
        prompt = event.prompt or (None, None)
        return {
            ATTR.OPERATION: event.operation,
            ATTR.PROVIDER: self.provider,
            ATTR.REQUEST_MODEL: event.request_model,
            ATTR.RESPONSE_MODEL: event.response_model,
            ATTR.SERVER_ADDRESS: event.server_address,
            ATTR.SERVER_PORT: event.server_port,
            ATTR.ERROR_TYPE: event.error_type,
            ATTR.PROMPT_NAME: prompt[0],
            ATTR.PROMPT_VERSION: prompt[1],
            ATTR.VARIANT: event.variant,
        }

    def on_call(self, event: CallEvent) -> None:
        attrs = self.guard.clean(self._common(event))
        self.duration.record(event.duration_s, attrs)
        if event.error_type is not None:
            return
        if event.input_tokens is not None:
            self._tokens(self.input_tokens, event.input_tokens, "input", attrs)
        if event.output_tokens is not None:
            self._tokens(self.output_tokens, event.output_tokens, "output", attrs)
        if event.ttft_s is not None:
            self.ttft.record(event.ttft_s, attrs)
        if event.chunk_gaps_s:
            # One record per chunk: the SDK's cost grows with the attributes, so the
            # per-chunk series keep only what the rules and the canary split by.
            lean = {k: attrs[k] for k in _CHUNK_ATTRS if k in attrs}
            for gap in event.chunk_gaps_s:
                self.itl.record(gap, lean)
        if event.tpot_s is not None:
            self.tpot.record(event.tpot_s, attrs)
        reason = self.guard.clean({ATTR.FINISH_REASON: event.finish_reason or "unknown"})
        self.finish.add(1, {**attrs, **reason})

    def _tokens(self, instrument: Any, count: int, kind: str, attrs: dict[str, Any]) -> None:
        if self.names.latest:
            instrument.record(count, attrs)
        else:
            instrument.record(count, {**attrs, ATTR.TOKEN_TYPE: kind})

    def on_structured(self, event: StructuredEvent) -> None:
        prompt = event.prompt or (None, None)
        attrs = self.guard.clean(
            {
                ATTR.PROVIDER: self.provider,
                ATTR.REQUEST_MODEL: event.request_model,
                ATTR.PROMPT_NAME: prompt[0],
                ATTR.PROMPT_VERSION: prompt[1],
                ATTR.VARIANT: event.variant,
            }
        )
        self.outcomes.add(1, {**attrs, **self.guard.clean({ATTR.STAGE: event.stage})})
        for rule in event.rules:
            self.rules.add(1, {**attrs, **self.guard.clean({ATTR.RULE: rule})})
        if event.reprompts:
            self.reprompts.add(event.reprompts, attrs)

    def on_eval_score(self, event: EvalScoreEvent) -> None:
        attrs = self.guard.clean(
            {ATTR.SUITE: event.suite, ATTR.SCORER: event.scorer, ATTR.VARIANT: event.variant}
        )
        self.score.record(event.score, attrs)
