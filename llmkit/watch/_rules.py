"""Prometheus recording and alerting rules over the series llmkit's exporter produces.

Latency objectives become multi-window, multi-burn-rate alerts (the SRE workbook, ch. 5):
the share of requests over the SLO bucket, divided by the error budget, over a long and a
short window together (1h and 5m at 14.4x: page; 6h and 30m at 6x: ticket). The bucket
bound must exist, so give :func:`llmkit.watch.enable` the same ``slo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from llmkit.watch._names import Names, le_label
from llmkit.watch._slo import Slo

__all__ = ["BURN_WINDOWS", "DEFAULT_RATES", "alert_names", "rules", "rules_yaml"]

# Share objectives applied when --slo does not name them.
DEFAULT_RATES = {
    "error_rate": 0.01,
    "parse_failure_rate": 0.01,
    "reprompt_rate": 0.10,
    "length_rate": 0.05,
}
# (severity, long window, short window, burn factor), from the SRE workbook.
BURN_WINDOWS = (("page", "1h", "5m", 14.4), ("ticket", "6h", "30m", 6.0))
_RATIO_WINDOW = "30m"


@dataclass(frozen=True)
class _Ctx:
    names: Names

    @property
    def count(self) -> str:
        return f"{self.names.duration_series}_count"


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def _g(x: float) -> str:
    return f"{x:.6g}"


def _latency_miss(series: str, bound: float, window: str) -> str:
    le = le_label(bound)
    return (
        f'1 - (sum(rate({series}_bucket{{le="{le}"}}[{window}]))'
        f" / sum(rate({series}_count[{window}])))"
    )


def _burn_rules(
    key: str, what: str, miss: dict[str, str], budget: float, summary: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Recording rules of the miss ratio per window, and the two burn-rate alerts."""
    record = [
        {"record": f"llmkit:{key}:miss_ratio_rate{w}", "expr": expr} for w, expr in miss.items()
    ]
    alerts = []
    for severity, long, short, factor in BURN_WINDOWS:
        threshold = _g(factor * budget)
        alerts.append(
            {
                "alert": f"LLM{_camel(key)}Burn{'Fast' if severity == 'page' else 'Slow'}",
                "expr": (
                    f"llmkit:{key}:miss_ratio_rate{long} > {threshold}"
                    f" and llmkit:{key}:miss_ratio_rate{short} > {threshold}"
                ),
                "labels": {"severity": severity, "slo": key},
                "annotations": {
                    "summary": f"{summary}: error budget burning at over {factor:g}x",
                    "description": (
                        f"{what} over the last {long} and {short} both spend the {budget:.4g}"
                        f" budget {factor:g} times too fast."
                    ),
                },
            }
        )
    return record, alerts


def _windows(slo_windows: set[str]) -> list[str]:
    return sorted(slo_windows, key=lambda w: (w[-1] != "m", int(w[:-1])))


def rules(slo: Slo, names: Names) -> dict[str, Any]:
    """The rule file as a mapping (``rules_yaml`` writes it)."""
    ctx = _Ctx(names)
    windows = _windows({w for _, long, short, _ in BURN_WINDOWS for w in (long, short)})
    rates = {**DEFAULT_RATES, **slo.rates}
    recording: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []

    # Errors: a multi-window burn rate on the error budget.
    error_miss = {
        w: f'sum(rate({ctx.count}{{error_type!=""}}[{w}])) / sum(rate({ctx.count}[{w}]))'
        for w in windows
    }
    rec, al = _burn_rules(
        "error_rate", "The error ratio", error_miss, rates["error_rate"], "LLM calls failing"
    )
    recording += rec
    alerts += al

    # Latency objectives: requests over the SLO bucket.
    for objective in slo.latency:
        series = names.latency_series(objective.metric)
        miss = {w: _latency_miss(series, objective.threshold_s, w) for w in windows}
        rec, al = _burn_rules(
            objective.key,
            f"The share of {objective.metric} above {objective.threshold_s:g} s",
            miss,
            objective.budget,
            f"{objective.key} objective ({objective.threshold_s:g} s) at risk",
        )
        recording += rec
        alerts += al

    # Structured output and finish reasons: ratios over a window against a plain threshold.
    outcomes = names.outcomes_series
    finish = names.finish_series
    w = _RATIO_WINDOW
    ratio_rules = {
        "parse_failure_rate": (
            f'sum(rate({outcomes}{{llmkit_structured_stage="failed"}}[{w}])) / sum(rate({outcomes}[{w}]))',
            "LLMParseFailureRatioHigh",
            "Structured answers that no repair could save",
        ),
        "reprompt_rate": (
            f'sum(rate({outcomes}{{llmkit_structured_stage="reprompted"}}[{w}])) / sum(rate({outcomes}[{w}]))',
            "LLMRepromptRatioHigh",
            "Structured calls that needed a re-prompt",
        ),
        "length_rate": (
            f'sum(rate({finish}{{gen_ai_response_finish_reason="length"}}[{w}])) / sum(rate({finish}[{w}]))',
            "LLMFinishLengthShareHigh",
            "Answers cut at max_tokens (finish_reason=length)",
        ),
    }
    for key, (expr, alert, summary) in ratio_rules.items():
        record = f"llmkit:{key.removesuffix('_rate')}_ratio:rate{w}"
        recording.append({"record": record, "expr": expr})
        alerts.append(
            {
                "alert": alert,
                "expr": f"{record} > {_g(rates[key])}",
                "for": "5m",
                "labels": {"severity": "ticket", "slo": key},
                "annotations": {
                    "summary": f"{summary}: above {rates[key]:.4g}",
                    "description": f"The ratio over the last {w} stayed above it for 5 minutes.",
                },
            }
        )

    # Token burn per hour, against the day before's hourly average.
    tokens = " + ".join(f"sum(increase({s}_sum[1h]))" for s in names.token_series)
    tokens_day = " + ".join(f"sum(increase({s}_sum[1d] offset 1h))" for s in names.token_series)
    recording.append({"record": "llmkit:tokens:increase1h", "expr": tokens})
    recording.append({"record": "llmkit:tokens:hourly_avg1d", "expr": f"({tokens_day}) / 24"})
    alerts.append(
        {
            "alert": "LLMTokenBurnSpike",
            "expr": "llmkit:tokens:increase1h > 2 * llmkit:tokens:hourly_avg1d",
            "for": "15m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "Tokens spent in the last hour are over twice the day's hourly average",
                "description": "Spend rose sharply: a loop, a prompt change or abuse?",
            },
        }
    )

    # Eval scores (online eval): the last hour's mean against the day before.
    score = names.score_series
    recording.append(
        {
            "record": "llmkit:eval_score:mean1h",
            "expr": f"sum(rate({score}_sum[1h])) / sum(rate({score}_count[1h]))",
        }
    )
    recording.append(
        {
            "record": "llmkit:eval_score:mean1d_before",
            "expr": f"sum(rate({score}_sum[1d] offset 1h)) / sum(rate({score}_count[1d] offset 1h))",
        }
    )
    alerts.append(
        {
            "alert": "LLMEvalScoreDrop",
            "expr": "llmkit:eval_score:mean1h < 0.9 * llmkit:eval_score:mean1d_before",
            "for": "10m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "Eval scores fell by over 10% against the day before",
                "description": "The last hour's mean score is under 90% of the day before's.",
            },
        }
    )

    # A response model never seen for this request model in the day before.
    pair = "gen_ai_request_model, gen_ai_response_model"
    now = f'count by ({pair}) (increase({ctx.count}{{gen_ai_response_model!=""}}[10m]) > 0)'
    before = (
        f'count by ({pair}) (increase({ctx.count}{{gen_ai_response_model!=""}}[1d] offset 10m) > 0)'
    )
    known = f"count by (gen_ai_request_model) (increase({ctx.count}[1d] offset 10m) > 0)"
    alerts.append(
        {
            "alert": "LLMResponseModelChanged",
            "expr": f"({now} unless on ({pair}) {before}) and on (gen_ai_request_model) {known}",
            "labels": {"severity": "info"},
            "annotations": {
                "summary": "{{ $labels.gen_ai_request_model }} is now answered by {{ $labels.gen_ai_response_model }}",
                "description": "The provider serves a response model not seen in the day before.",
            },
        }
    )
    return {
        "groups": [
            {"name": "llmkit-recording", "rules": recording},
            {"name": "llmkit-alerts", "rules": alerts},
        ]
    }


def alert_names(document: dict[str, Any]) -> list[str]:
    """Every alert's name in a rule document."""
    return [r["alert"] for g in document["groups"] for r in g["rules"] if "alert" in r]


def rules_yaml(slo: Slo, names: Names) -> str:
    """The Prometheus rule file for ``slo`` on the series of ``names``, as YAML text."""
    header = (
        "# Prometheus rules written by `llmkit watch rules`.\n"
        "# Latency thresholds must be histogram bucket bounds: pass the same SLO to\n"
        "# llmkit.watch.enable(slo=...) in the process that serves the metrics.\n"
    )
    return header + yaml.safe_dump(rules(slo, names), sort_keys=False, width=1000)
