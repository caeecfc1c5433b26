"""The annotation demo section, and the package's public facade."""

from __future__ import annotations

import io
import re

from rich.console import Console

import llmkit.annotate as annotate
from llmkit.cli._demo_annotate import run_demo


def test_demo_simulates_a_day_and_reports_agreement_and_metrics() -> None:
    out = io.StringIO()
    report = run_demo(Console(file=out, width=140), n_items=40, seed=3)
    assert report["imported"] >= 500 and report["sampled"] == 40
    assert set(report["per_rater"]) == {"ada", "grace"}
    quality = report["agreement"]["overall_quality"]
    assert quality["n_raters"] == 2 and quality["n_items"] == 20  # the overlap items only
    # Simulated raters follow the same truth with some noise: clearly above chance, below 1.
    assert 0.3 < quality["krippendorff_alpha"] < 1.0
    raters = {r["rater"]: r for r in report["raters"]}
    assert raters["ada"]["gold_accuracy"] >= raters["grace"]["gold_accuracy"] - 0.2
    metrics = {m["metric"]: m for m in report["metrics"]}
    rate = metrics["hallucination_rate"]
    assert 0.0 < rate["estimate"] < 1.0 and rate["low"] <= rate["estimate"] <= rate["high"]
    text = out.getvalue()
    assert "Krippendorff" in text and "overall_quality_mean" in text and "adjudication" in text


def test_facade_all_is_sorted_complete_and_resolves() -> None:
    assert len(set(annotate.__all__)) == len(annotate.__all__)
    assert sorted(annotate.__all__) == sorted(annotate._EXPORTS)
    for name in annotate.__all__:
        assert getattr(annotate, name) is not None, name
    assert all(re.fullmatch(r"llmkit\.annotate\._\w+", m) for m in annotate._EXPORTS.values())
