"""``llmkit demo`` runs offline, reports each capability, and leaves no process behind.

The tests use ``--quick`` (the same sections, smaller); the full demo is what people run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys

import pytest

from llmkit.cli._common import console
from llmkit.cli._demo import FULL, QUICK, run_demo


@pytest.mark.slow
def test_demo_json_reports_every_section() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmkit", "demo", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout)
    assert set(report) >= {"client", "structured", "latency", "annotation", "evals"}

    client = report["client"]
    assert [row["attempts"] for row in client] == [1, 2, 2, 1]  # a 429 and a cut, retried
    assert all(row["ttft_ms"] <= row["e2e_ms"] for row in client)

    structured = report["structured"]
    stages = structured["stages"]
    n = QUICK.structured_answers
    assert sum(stages.values()) == structured["answers"] == n
    assert stages.get("failed", 0) == 0
    malformed = n - stages["clean"]
    assert 0 < malformed < n // 4  # the engine corrupts ~10% of answers
    # Repair in code first: at most one extra call per re-prompted answer.
    assert structured["model_calls"] < n + malformed
    # Both JSON forms are reported: YAML beats indented JSON, not always compact JSON.
    assert structured["tokens_yaml"] < structured["tokens_json"]
    assert structured["tokens_json_compact"] < structured["tokens_json"]

    replay = report["evals"]["replay"]  # the example suite against its committed cassettes
    assert replay["cases"] > 0 and replay["exit_code"] == 0

    levels = report["latency"]
    assert all(level["failed"] == 0 for level in levels)
    ttft = [level["ttft_ms_p50"] for level in levels]
    tps = [level["output_tokens_per_s"] for level in levels]
    assert ttft[-1] > 3 * ttft[0]  # queueing beyond the batch costs TTFT
    assert tps[-1] > 3 * tps[0]  # ... and load bought throughput


def test_quick_is_smaller_than_the_full_demo() -> None:
    assert QUICK.structured_answers < FULL.structured_answers
    assert QUICK.latency_duration_s < FULL.latency_duration_s
    assert FULL.structured_answers == 100  # the full demo stays what the README shows


def test_piped_report_at_80_columns_cuts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    buffer = io.StringIO()  # not a terminal: what `llmkit demo | less` gets
    smaller = dataclasses.replace(QUICK, structured_answers=8)
    report = run_demo(console(buffer), ["client", "structured"], smaller)
    text = buffer.getvalue()
    assert "…" not in text  # nothing cut, e.g. the header "attempts" or a number
    assert "\x1b[" not in text  # no colour codes in a pipe
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "attempts" in text
    for row in report["client"]:
        assert f"{row['e2e_ms']:.1f}" in text
    cost = report["structured"]
    assert (
        f"one ticket costs {cost['tokens_yaml']} tokens as YAML, {cost['tokens_json']} as "
        f"indented JSON, {cost['tokens_json_compact']} as compact JSON"
    ) in " ".join(text.split())
