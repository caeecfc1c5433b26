"""The names llmkit emits: GenAI semantic conventions first, ``llmkit.*`` for what they lack.

``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` switches the client metrics to
the newer ``gen_ai.client.inference.*`` names (and only those, as the conventions ask).
The Prometheus series are what OpenTelemetry's Prometheus exporter makes of each name:
dots to underscores, the unit as a suffix (``s`` -> ``_seconds``), ``_total`` on counters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "ATTR",
    "Names",
    "latest_opted_in",
    "le_label",
    "names",
]

OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"


class ATTR:
    """Attribute keys (and so, underscored, the Prometheus labels)."""

    OPERATION = "gen_ai.operation.name"
    PROVIDER = "gen_ai.provider.name"
    REQUEST_MODEL = "gen_ai.request.model"
    RESPONSE_MODEL = "gen_ai.response.model"
    FINISH_REASONS = "gen_ai.response.finish_reasons"
    FINISH_REASON = "gen_ai.response.finish_reason"
    TOKEN_TYPE = "gen_ai.token.type"
    INPUT_TOKENS = "gen_ai.usage.input_tokens"
    OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
    INPUT_MESSAGES = "gen_ai.input.messages"
    OUTPUT_MESSAGES = "gen_ai.output.messages"
    SERVER_ADDRESS = "server.address"
    SERVER_PORT = "server.port"
    ERROR_TYPE = "error.type"
    PROMPT_NAME = "llmkit.prompt.name"
    PROMPT_VERSION = "llmkit.prompt.version"
    VARIANT = "llmkit.variant"
    STAGE = "llmkit.structured.stage"
    RULE = "llmkit.structured.rule"
    SUITE = "llmkit.eval.suite"
    SCORER = "llmkit.eval.scorer"
    SIGNAL = "llmkit.drift.signal"


@dataclass(frozen=True)
class Names:
    """Instrument names for one version of the conventions."""

    duration: str
    ttft: str
    itl: str
    input_tokens: str
    output_tokens: str  # equal to input_tokens when one histogram splits by token type
    latest: bool
    tpot: str = "llmkit.client.time_per_output_token"
    finish_reasons: str = "llmkit.client.finish_reasons"
    structured_outcomes: str = "llmkit.structured.outcomes"
    structured_rules: str = "llmkit.structured.rules"
    reprompts: str = "llmkit.structured.reprompts"
    eval_score: str = "llmkit.eval.score"
    drift_p_value: str = "llmkit.drift.p_value"
    drift_effect: str = "llmkit.drift.effect_size"

    def series(self, name: str, unit: str = "") -> str:
        """The Prometheus series base name the exporter makes of ``name``."""
        base = name.replace(".", "_")
        return f"{base}_seconds" if unit == "s" else base

    @property
    def duration_series(self) -> str:
        return self.series(self.duration, "s")

    @property
    def ttft_series(self) -> str:
        return self.series(self.ttft, "s")

    @property
    def itl_series(self) -> str:
        return self.series(self.itl, "s")

    def latency_series(self, metric: str) -> str:
        return {"ttft": self.ttft_series, "itl": self.itl_series, "duration": self.duration_series}[
            metric
        ]

    @property
    def token_series(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys([self.series(self.input_tokens), self.series(self.output_tokens)])
        )

    @property
    def outcomes_series(self) -> str:
        return self.series(self.structured_outcomes) + "_total"

    @property
    def finish_series(self) -> str:
        return self.series(self.finish_reasons) + "_total"

    @property
    def score_series(self) -> str:
        return self.series(self.eval_score)


CLASSIC = Names(
    duration="gen_ai.client.operation.duration",
    ttft="gen_ai.client.operation.time_to_first_chunk",
    itl="gen_ai.client.operation.time_per_output_chunk",
    input_tokens="gen_ai.client.token.usage",
    output_tokens="gen_ai.client.token.usage",
    latest=False,
)
LATEST = Names(
    duration="gen_ai.client.inference.duration",
    ttft="gen_ai.client.inference.time_to_first_chunk",
    itl="gen_ai.client.inference.time_per_output_chunk",
    input_tokens="gen_ai.client.inference.usage.input_tokens",
    output_tokens="gen_ai.client.inference.usage.output_tokens",
    latest=True,
)


def latest_opted_in(env: str | None = None) -> bool:
    value = os.environ.get(OPT_IN_ENV, "") if env is None else env
    return "gen_ai_latest_experimental" in {v.strip() for v in value.split(",")}


def names(latest: bool | None = None) -> Names:
    """The names in force: ``latest`` given, else from ``OTEL_SEMCONV_STABILITY_OPT_IN``."""
    return LATEST if (latest_opted_in() if latest is None else latest) else CLASSIC


def le_label(bound: float) -> str:
    """A bucket bound as the exporter writes its ``le`` label (bounds are always floats)."""
    return repr(float(bound))
