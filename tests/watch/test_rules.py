"""The generated rules, checked and evaluated by the real ``promtool``: one unit test per alert.

Each alert gets a bad history (it must fire, with exactly these labels and annotations) and
a healthy one (it must stay silent), so a rule that can never fire, or always fires, fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmkit.cli import main
from llmkit.watch._names import names
from llmkit.watch._rules import alert_names, rules
from llmkit.watch._slo import parse_slo

from ._prom import binary

SLO = "ttft_p95=800ms,itl_p95=80ms,error_rate=2%,parse_failure_rate=0.5%"
COUNT = "gen_ai_client_operation_duration_seconds_count"
TTFT = "gen_ai_client_operation_time_to_first_chunk_seconds"
ITL = "gen_ai_client_operation_time_per_output_chunk_seconds"
OUTCOMES = "llmkit_structured_outcomes_total"
FINISH = "llmkit_client_finish_reasons_total"
DAY = 1440  # minutes


def _s(series: str, values: str) -> dict[str, str]:
    return {"series": series, "values": values}


# alert -> (bad input series, eval time, expected labels, healthy input series)
CASES: dict[str, tuple[list[dict[str, str]], str, dict[str, str], list[dict[str, str]]]] = {
    "LLMErrorRateBurnFast": (
        [_s(f'{COUNT}{{error_type="APIError"}}', "0+5x70"), _s(COUNT, "0+5x70")],
        "10m",
        {"severity": "page", "slo": "error_rate"},
        [_s(f'{COUNT}{{error_type="APIError"}}', "0+0x70"), _s(COUNT, "0+5x70")],
    ),
    "LLMErrorRateBurnSlow": (
        [_s(f'{COUNT}{{error_type="APIError"}}', "0+1x70"), _s(COUNT, "0+5x70")],
        "40m",
        {"severity": "ticket", "slo": "error_rate"},
        # 1 in 100 failing: under the 2% budget's 6x burn
        [_s(f'{COUNT}{{error_type="APIError"}}', "0+1x70"), _s(COUNT, "0+99x70")],
    ),
    "LLMTtftP95BurnFast": (
        [_s(f'{TTFT}_bucket{{le="0.8"}}', "0+1x70"), _s(f"{TTFT}_count", "0+10x70")],
        "10m",
        {"severity": "page", "slo": "ttft_p95"},
        [_s(f'{TTFT}_bucket{{le="0.8"}}', "0+10x70"), _s(f"{TTFT}_count", "0+10x70")],
    ),
    "LLMTtftP95BurnSlow": (
        [_s(f'{TTFT}_bucket{{le="0.8"}}', "0+6x70"), _s(f"{TTFT}_count", "0+10x70")],
        "40m",
        {"severity": "ticket", "slo": "ttft_p95"},
        # 4% over 0.8 s: inside a p95 objective
        [_s(f'{TTFT}_bucket{{le="0.8"}}', "0+96x70"), _s(f"{TTFT}_count", "0+100x70")],
    ),
    "LLMItlP95BurnFast": (
        [_s(f'{ITL}_bucket{{le="0.08"}}', "0+10x70"), _s(f"{ITL}_count", "0+100x70")],
        "10m",
        {"severity": "page", "slo": "itl_p95"},
        [_s(f'{ITL}_bucket{{le="0.08"}}', "0+99x70"), _s(f"{ITL}_count", "0+100x70")],
    ),
    "LLMItlP95BurnSlow": (
        [_s(f'{ITL}_bucket{{le="0.08"}}', "0+60x70"), _s(f"{ITL}_count", "0+100x70")],
        "40m",
        {"severity": "ticket", "slo": "itl_p95"},
        [_s(f'{ITL}_bucket{{le="0.08"}}', "0+97x70"), _s(f"{ITL}_count", "0+100x70")],
    ),
    "LLMParseFailureRatioHigh": (
        [
            _s(f'{OUTCOMES}{{llmkit_structured_stage="failed"}}', "0+1x70"),
            _s(f'{OUTCOMES}{{llmkit_structured_stage="clean"}}', "0+99x70"),
        ],
        "40m",
        {"severity": "ticket", "slo": "parse_failure_rate"},
        [
            _s(f'{OUTCOMES}{{llmkit_structured_stage="failed"}}', "0+1x70"),
            _s(f'{OUTCOMES}{{llmkit_structured_stage="clean"}}', "0+999x70"),
        ],
    ),
    "LLMRepromptRatioHigh": (
        [
            _s(f'{OUTCOMES}{{llmkit_structured_stage="reprompted"}}', "0+2x70"),
            _s(f'{OUTCOMES}{{llmkit_structured_stage="clean"}}', "0+8x70"),
        ],
        "40m",
        {"severity": "ticket", "slo": "reprompt_rate"},
        [
            _s(f'{OUTCOMES}{{llmkit_structured_stage="reprompted"}}', "0+1x70"),
            _s(f'{OUTCOMES}{{llmkit_structured_stage="clean"}}', "0+19x70"),
        ],
    ),
    "LLMFinishLengthShareHigh": (
        [
            _s(f'{FINISH}{{gen_ai_response_finish_reason="length"}}', "0+1x70"),
            _s(f'{FINISH}{{gen_ai_response_finish_reason="stop"}}', "0+9x70"),
        ],
        "40m",
        {"severity": "ticket", "slo": "length_rate"},
        [
            _s(f'{FINISH}{{gen_ai_response_finish_reason="length"}}', "0+1x70"),
            _s(f'{FINISH}{{gen_ai_response_finish_reason="stop"}}', "0+99x70"),
        ],
    ),
    "LLMTokenBurnSpike": (
        [
            _s(
                'gen_ai_client_token_usage_sum{gen_ai_token_type="output"}',
                f"0+100x{DAY} {100 * DAY}+1000x120",
            )
        ],
        f"{DAY + 100}m",
        {"severity": "ticket"},
        [_s('gen_ai_client_token_usage_sum{gen_ai_token_type="output"}', f"0+100x{DAY + 120}")],
    ),
    "LLMEvalScoreDrop": (
        [
            _s("llmkit_eval_score_count", f"0+10x{DAY} {10 * DAY}+10x120"),
            _s("llmkit_eval_score_sum", f"0+9x{DAY} {9 * DAY}+5x120"),
        ],
        f"{DAY + 100}m",
        {"severity": "ticket"},
        [
            _s("llmkit_eval_score_count", f"0+10x{DAY + 120}"),
            _s("llmkit_eval_score_sum", f"0+9x{DAY + 120}"),
        ],
    ),
    "LLMResponseModelChanged": (
        [
            _s(
                f'{COUNT}{{gen_ai_request_model="m",gen_ai_response_model="m-1"}}',
                f"0+5x{DAY} {5 * DAY}x30",
            ),
            _s(
                f'{COUNT}{{gen_ai_request_model="m",gen_ai_response_model="m-2"}}',
                f"_x{DAY} 0+5x30",
            ),
        ],
        f"{DAY + 5}m",
        {"severity": "info", "gen_ai_request_model": "m", "gen_ai_response_model": "m-2"},
        [
            _s(
                f'{COUNT}{{gen_ai_request_model="m",gen_ai_response_model="m-1"}}',
                f"0+5x{DAY + 30}",
            )
        ],
    ),
}


def _annotations(rule: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """The rule's annotations as Prometheus renders them for these labels."""

    def render(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {k: render(v) for k, v in rule.get("annotations", {}).items()}


def _unit_tests(document: dict[str, Any]) -> list[dict[str, Any]]:
    by_name = {r["alert"]: r for g in document["groups"] for r in g["rules"] if "alert" in r}
    tests = []
    for alert, (bad, at, labels, good) in CASES.items():
        expected = {"exp_labels": labels, "exp_annotations": _annotations(by_name[alert], labels)}
        tests.append(
            {
                "interval": "1m",
                "input_series": bad,
                "alert_rule_test": [
                    {"eval_time": at, "alertname": alert, "exp_alerts": [expected]}
                ],
            }
        )
        tests.append(
            {
                "interval": "1m",
                "input_series": good,
                "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": []}],
            }
        )
    return tests


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yml"
    assert _main(["watch", "rules", "--slo", SLO, "-o", str(path)]) == 0
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def _main(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_promtool_accepts_the_rules(rule_file: Path) -> None:
    done = _run(binary("promtool"), "check", "rules", str(rule_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_fires_on_a_bad_history_and_stays_silent_on_a_good_one(
    rule_file: Path, tmp_path: Path
) -> None:
    document = yaml.safe_load(rule_file.read_text())
    assert sorted(alert_names(document)) == sorted(CASES), "every alert needs a unit test"
    tests = tmp_path / "tests.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(rule_file)],
                "evaluation_interval": "1m",
                "tests": _unit_tests(document),
            },
            sort_keys=False,
        )
    )
    done = _run(binary("promtool"), "test", "rules", str(tests))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rule_that_cannot_fire_fails_its_unit_test(rule_file: Path, tmp_path: Path) -> None:
    # The harness itself can fail: the fast error burn with an impossible threshold.
    text = rule_file.read_text().replace(
        "llmkit:error_rate:miss_ratio_rate1h > 0.288", "llmkit:error_rate:miss_ratio_rate1h > 2"
    )
    assert text != rule_file.read_text()
    rule_file.write_text(text)
    bad, at, labels, _ = CASES["LLMErrorRateBurnFast"]
    document = yaml.safe_load(text)
    rule = next(
        r
        for g in document["groups"]
        for r in g["rules"]
        if r.get("alert") == "LLMErrorRateBurnFast"
    )
    tests = tmp_path / "tests.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(rule_file)],
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": bad,
                        "alert_rule_test": [
                            {
                                "eval_time": at,
                                "alertname": "LLMErrorRateBurnFast",
                                "exp_alerts": [
                                    {
                                        "exp_labels": labels,
                                        "exp_annotations": _annotations(rule, labels),
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    )
    assert _run(binary("promtool"), "test", "rules", str(tests)).returncode != 0


def test_latest_semconv_rules_use_the_inference_names(tmp_path: Path) -> None:
    text = yaml.safe_dump(rules(parse_slo(SLO), names(latest=True)))
    assert "gen_ai_client_inference_time_to_first_chunk_seconds_bucket" in text
    assert "gen_ai_client_inference_usage_output_tokens_sum" in text
    assert "gen_ai_client_operation" not in text
    path = tmp_path / "latest.yml"
    assert _main(["watch", "rules", "--latest-semconv", "--slo", SLO, "-o", str(path)]) == 0
    done = _run(binary("promtool"), "check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("slo", "needle"),
    [
        ("ttft_p95=800", "expected a duration"),
        ("ttft_p95=800ms,ttft_p95=1s", "given twice"),
        ("latency=1s", "unknown objective"),
        ("error_rate=120%", "below 100%"),
        ("error_rate", "expected key=value"),
        ("ttft_p30=1s", "percentile"),
    ],
)
def test_a_bad_slo_is_misuse_naming_the_item(
    slo: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["watch", "rules", "--slo", slo]) == 2
    assert needle in capsys.readouterr().err


def test_the_dashboard_queries_the_rule_series(tmp_path: Path) -> None:
    import json

    path = tmp_path / "dashboard.json"
    assert _main(["watch", "dashboard", "-o", str(path)]) == 0
    board = json.loads(path.read_text())
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for series in (COUNT, f"{TTFT}_bucket", f"{ITL}_bucket", OUTCOMES, FINISH):
        assert series in exprs
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
