"""``llmkit demo`` runs offline, reports each capability, and leaves no process behind."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_json_reports_every_section() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmkit", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout)
    assert set(report) >= {"client", "structured", "latency", "annotation"}

    client = report["client"]
    assert [row["attempts"] for row in client] == [1, 2, 2, 1]  # a 429 and a cut, retried
    assert all(row["ttft_ms"] <= row["e2e_ms"] for row in client)

    structured = report["structured"]
    stages = structured["stages"]
    assert sum(stages.values()) == structured["answers"] == 100
    assert stages.get("failed", 0) == 0
    malformed = 100 - stages["clean"]
    assert 0 < malformed < 25  # the engine corrupts ~10% of answers
    # Repair in code first: at most one extra call per re-prompted answer.
    assert structured["model_calls"] < 100 + malformed
    assert structured["tokens_yaml"] < structured["tokens_json"]

    levels = report["latency"]
    assert all(level["failed"] == 0 for level in levels)
    ttft = [level["ttft_ms_p50"] for level in levels]
    tps = [level["output_tokens_per_s"] for level in levels]
    assert ttft[-1] > 3 * ttft[0]  # queueing beyond the batch costs TTFT
    assert tps[-1] > 3 * tps[0]  # ... and load bought throughput
