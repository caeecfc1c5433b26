"""The demo's watch section shows the model shift caught four ways."""

from __future__ import annotations

import io

from llmkit.cli._common import console
from llmkit.cli._demo import QUICK, run_demo


def test_the_watch_section_rolls_back_and_names_the_drift() -> None:
    buffer = io.StringIO()
    report = run_demo(console(buffer), ["watch"], QUICK)["watch"]
    assert report["metrics"]["calls"] > 0
    assert "LLMRepromptRatioHigh" in report["metrics"]["alerts_true"]
    assert "LLMErrorRateBurnFast" not in report["metrics"]["alerts_true"]
    canary = report["canary"]
    assert (canary["verdict"], canary["exit_code"]) == ("rollback", 1)
    # v2 writes cut-short YAML for everyone (a large effect: always named); its slow path
    # for 10% of users shows in itl_p95 when the sample is big enough against timing noise.
    assert "parse_failure_rate" in canary["failing"], canary
    drift = report["drift"]
    assert drift["verdict"] == "drift"
    assert {"parse_stage", "itl_ms"} <= set(drift["drifted"])
    text = buffer.getvalue()
    assert "rollback" in text and "parse_failure_rate" in text and "parse_stage" in text
