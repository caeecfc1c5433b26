"""A Grafana dashboard over the same series the rules use (JSON model, schema 39)."""

from __future__ import annotations

from typing import Any

from llmkit.watch._names import Names

__all__ = ["dashboard"]


def _panel(
    pid: int, title: str, targets: list[tuple[str, str]], unit: str, x: int, y: int
) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(names: Names, title: str = "llmkit: LLM calls") -> dict[str, Any]:
    """A Grafana dashboard (JSON model): rates, errors, TTFT, ITL, stages, tokens, scores."""
    count = f"{names.duration_series}_count"
    ttft = names.ttft_series
    itl = names.itl_series
    outcomes = names.outcomes_series
    finish = names.finish_series
    score = names.score_series
    tokens = " + ".join(f"sum(rate({s}_sum[5m]))" for s in names.token_series)
    by = "gen_ai_request_model, llmkit_variant"
    specs: list[tuple[str, list[tuple[str, str]], str]] = [
        (
            "Requests per second",
            [(f"sum by ({by}) (rate({count}[5m]))", "{{gen_ai_request_model}} {{llmkit_variant}}")],
            "reqps",
        ),
        (
            "Error ratio",
            [(f'sum(rate({count}{{error_type!=""}}[5m])) / sum(rate({count}[5m]))', "errors")],
            "percentunit",
        ),
        (
            "Time to first chunk",
            [
                (f"histogram_quantile(0.5, sum by (le) (rate({ttft}_bucket[5m])))", "p50"),
                (f"histogram_quantile(0.95, sum by (le) (rate({ttft}_bucket[5m])))", "p95"),
            ],
            "s",
        ),
        (
            "Time per output chunk (ITL)",
            [
                (f"histogram_quantile(0.5, sum by (le) (rate({itl}_bucket[5m])))", "p50"),
                (
                    f"histogram_quantile(0.95, sum by (le, llmkit_variant) (rate({itl}_bucket[5m])))",
                    "p95 {{llmkit_variant}}",
                ),
            ],
            "s",
        ),
        (
            "Structured output by stage",
            [
                (
                    f"sum by (llmkit_structured_stage) (rate({outcomes}[5m]))",
                    "{{llmkit_structured_stage}}",
                )
            ],
            "ops",
        ),
        (
            "Finish reasons",
            [
                (
                    f"sum by (gen_ai_response_finish_reason) (rate({finish}[5m]))",
                    "{{gen_ai_response_finish_reason}}",
                )
            ],
            "ops",
        ),
        ("Tokens per hour", [(f"({tokens}) * 3600", "tokens/h")], "short"),
        (
            "Eval score (mean)",
            [
                (
                    f"sum by (llmkit_eval_suite) (rate({score}_sum[1h])) / sum by (llmkit_eval_suite) (rate({score}_count[1h]))",
                    "{{llmkit_eval_suite}}",
                )
            ],
            "percentunit",
        ),
        (
            "Response models",
            [
                (
                    f"sum by (gen_ai_request_model, gen_ai_response_model) (rate({count}[5m]))",
                    "{{gen_ai_request_model}} -> {{gen_ai_response_model}}",
                )
            ],
            "reqps",
        ),
    ]
    panels = [
        _panel(i + 1, t, targets, unit, 12 * (i % 2), 8 * (i // 2))
        for i, (t, targets, unit) in enumerate(specs)
    ]
    return {
        "title": title,
        "uid": "llmkit-watch",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "tags": ["llmkit", "genai"],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels,
    }
