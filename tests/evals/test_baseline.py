"""Baselines: the paired verdict, its settings, and the baseline file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmkit import ConfigError
from llmkit.evals._baseline import (
    BaselineError,
    compare_to_baseline,
    load_baseline,
    validate_baseline_settings,
    write_baseline,
)


def summary(cases: dict[str, dict[str, tuple[float, bool]]], **extra: Any) -> dict[str, Any]:
    """A summary in the runner's shape: case -> scorer -> (score, passed)."""
    per_case = {
        cid: {
            "tags": [],
            "passed": all(p for _, p in scores.values()),
            "scores": {
                name: {"score": s, "passed": p, "n": 1, "scores": [s], "passes": [p]}
                for name, (s, p) in scores.items()
            },
        }
        for cid, scores in cases.items()
    }
    return {"format": "llmkit.eval.summary/1", "suite": "t", "per_case": per_case, **extra}


def binary(passes: list[bool], scorer: str = "exact") -> dict[str, Any]:
    return summary({f"c{i:03d}": {scorer: (float(p), p)} for i, p in enumerate(passes)})


def test_big_significant_drop_is_a_regression_and_names_the_metric() -> None:
    before = binary([True] * 40)
    after = binary([True] * 28 + [False] * 12)
    cmp = compare_to_baseline(after, before)
    assert cmp.regressed
    names = [m.metric for m in cmp.metrics if m.regressed]
    assert names == ["cases.pass", "exact.pass"]
    line = cmp.regressions[1]
    assert line.startswith("exact.pass: 1.000 -> 0.700")
    assert "CI [" in line and "McNemar p=" in line and "lost 12, gained 0" in line
    # a 0/1 score equals the pass indicator: no separate score metric
    assert [m.metric for m in cmp.metrics] == ["cases.pass", "exact.pass"]


def test_unchanged_run_is_no_regression() -> None:
    run = binary([True, False] * 20)
    cmp = compare_to_baseline(run, run)
    assert not cmp.regressed
    assert all(m.change == 0 and m.pvalue == 1.0 for m in cmp.metrics)
    assert cmp.lines()[-1] == "no regression against the baseline"


def test_drop_beyond_threshold_but_not_significant_is_not_a_regression() -> None:
    # 10 lost and 5 gained of 40: a 12.5% drop, beyond 5%, but McNemar p = 0.30
    before = binary([True] * 10 + [False] * 5 + [True] * 25)
    after = binary([False] * 10 + [True] * 5 + [True] * 25)
    cmp = compare_to_baseline(after, before)
    m = cmp.metrics[1]
    assert m.change == pytest.approx(-0.125)
    assert not m.significant and not m.regressed and not m.inconclusive
    assert not cmp.regressed and cmp.exit_code == 0
    assert "drop not significant" in m.line()


def test_one_lost_case_of_five_is_inconclusive_not_a_pass() -> None:
    # a 20% drop, but one changed case: no test at 0.05 can say anything (exit 3)
    cmp = compare_to_baseline(binary([True] * 4 + [False]), binary([True] * 5))
    m = cmp.metrics[1]
    assert m.change == pytest.approx(-0.2)
    assert m.inconclusive and m.verdict == "inconclusive" and not m.regressed
    assert cmp.inconclusive and cmp.exit_code == 3
    assert "INCONCLUSIVE" in m.line() and "fewer than 6" in m.line()
    assert cmp.lines()[-1].startswith("inconclusive: 2 metric(s)")


def test_a_graded_score_on_one_case_is_never_a_significant_regression() -> None:
    before = summary({"only": {"tags_known": (1.0, True)}})
    after = summary({"only": {"tags_known": (0.5, True)}})
    cmp = compare_to_baseline(after, before)
    score = next(m for m in cmp.metrics if m.metric == "tags_known.score")
    assert score.test == "sign-flip" and score.interval is None
    assert not score.significant and not score.regressed and score.inconclusive
    assert cmp.exit_code == 3
    assert "CI [" not in score.line() and "REGRESSION" not in score.line()


def test_a_three_case_collapse_is_inconclusive_with_no_zero_width_interval() -> None:
    cmp = compare_to_baseline(binary([False] * 3), binary([True] * 3))
    for m in cmp.metrics:
        assert m.change == -1.0 and m.interval is None and m.verdict == "inconclusive"
        assert "CI [" not in m.line() and "not significant" not in m.line()
    assert cmp.exit_code == 3
    assert "n/a" in cmp.to_markdown() and "**inconclusive**" in cmp.to_markdown()


def test_six_lost_of_six_is_the_smallest_significant_drop() -> None:
    cmp = compare_to_baseline(binary([False] * 6), binary([True] * 6))
    assert cmp.regressed and cmp.exit_code == 1
    assert cmp.metrics[0].pvalue == pytest.approx(0.03125)


def test_graded_scores_below_20_pairs_use_the_exact_sign_flip_test() -> None:
    old = [0.9, 0.8, 1.0, 0.7, 0.95, 0.85, 0.9, 0.75]
    before = summary({f"c{i}": {"judge": (v, True)} for i, v in enumerate(old)})
    after = summary({f"c{i}": {"judge": (v - 0.3, True)} for i, v in enumerate(old)})
    score = next(m for m in compare_to_baseline(after, before).metrics if m.kind == "score")
    assert score.test == "sign-flip" and score.interval is None
    assert score.pvalue == pytest.approx(2 / 2**8)
    assert score.regressed and "exact sign-flip p=0.00781" in score.line()


def test_a_zero_width_bootstrap_interval_is_never_shown() -> None:
    cmp = compare_to_baseline(binary([False] * 30), binary([True] * 30))
    m = cmp.metrics[1]
    assert m.regressed and m.interval is None and "CI [" not in m.line()
    assert m.to_dict()["interval"] is None


def test_repeats_enter_the_paired_test_as_one_pair_per_case() -> None:
    # 4 cases x 3 repeats, every repeat dropping: 12 "pairs" would reach p < 0.05 if they
    # were independent; 4 cases cannot, so the verdict is inconclusive
    def run(score: float) -> dict[str, Any]:
        out = summary({f"c{i}": {"judge": (score, True)} for i in range(4)})
        for case in out["per_case"].values():
            case["scores"]["judge"].update(n=3, scores=[score] * 3, passes=[True] * 3)
        return out

    cmp = compare_to_baseline(run(0.4), run(0.9))
    score = next(m for m in cmp.metrics if m.kind == "score")
    assert score.n == 4 and score.changed == 4
    assert score.inconclusive and not score.regressed and cmp.exit_code == 3


def test_significant_drop_within_threshold_is_not_a_regression() -> None:
    # 40 of 2000 lost: p ~ 1e-12 but a 2% drop under the 5% threshold
    before = binary([True] * 2000)
    after = binary([True] * 1960 + [False] * 40)
    cmp = compare_to_baseline(after, before)
    m = cmp.metrics[1]
    assert m.significant and not m.regressed
    # the same data with a 1% threshold regresses
    assert compare_to_baseline(after, before, threshold=0.01).regressed


def test_more_gained_than_lost_is_never_significant_as_a_drop() -> None:
    cmp = compare_to_baseline(binary([True] * 40), binary([False] * 40))
    assert not cmp.regressed
    assert cmp.metrics[0].change == 1.0


def test_added_and_removed_cases_are_reported_and_left_out() -> None:
    base = summary({"a": {"s": (1.0, True)}, "b": {"s": (1.0, True)}, "gone": {"s": (1.0, True)}})
    now = summary({"a": {"s": (1.0, True)}, "b": {"s": (1.0, True)}, "new": {"s": (0.0, False)}})
    cmp = compare_to_baseline(now, base)
    assert cmp.added == ("new",) and cmp.removed == ("gone",) and cmp.shared == 2
    assert all(m.n == 2 and m.change == 0 for m in cmp.metrics)
    text = "\n".join(cmp.lines())
    assert "added since the baseline (not compared): new" in text
    assert "removed since the baseline (not compared): gone" in text
    d = cmp.to_dict()
    assert d["added_cases"] == ["new"] and d["removed_cases"] == ["gone"]
    json.dumps(d, allow_nan=False)


def test_graded_scores_use_the_paired_bootstrap() -> None:
    rng = np.random.default_rng(3)
    old = rng.uniform(0.5, 1.0, 60)
    new = old - 0.15 + rng.normal(0, 0.02, 60)
    before = summary({f"c{i}": {"judge": (float(v), True)} for i, v in enumerate(old)})
    after = summary({f"c{i}": {"judge": (float(v), True)} for i, v in enumerate(new)})
    cmp = compare_to_baseline(after, before)
    score = next(m for m in cmp.metrics if m.metric == "judge.score")
    assert score.kind == "score" and score.pvalue is None
    assert score.interval.high < 0 and score.regressed
    assert score.change == pytest.approx(float(np.mean(new - old)))
    # per-scorer threshold beats the suite-wide one
    relaxed = dict(after, baseline_settings={"thresholds": {"judge": 0.5}})
    assert not compare_to_baseline(relaxed, before).regressed


def test_verdict_is_reproducible_and_seeded() -> None:
    rng = np.random.default_rng(0)
    before = summary({f"c{i}": {"j": (float(v), True)} for i, v in enumerate(rng.uniform(size=30))})
    after = summary({f"c{i}": {"j": (float(v), True)} for i, v in enumerate(rng.uniform(size=30))})
    one = compare_to_baseline(after, before).to_dict()
    two = compare_to_baseline(after, before).to_dict()
    assert one == two
    other = compare_to_baseline(after, before, seed=7).to_dict()
    assert other["metrics"][-1]["interval"] != one["metrics"][-1]["interval"]


def test_markdown_report_has_the_interval_and_verdict() -> None:
    md = compare_to_baseline(binary([False] * 30), binary([True] * 30)).to_markdown()
    assert "**regression**" in md and "| `exact.pass` | 1.000 | 0.000 | -1.000 | n/a |" in md
    assert "McNemar p=1.86e-09 (-30/+0)" in md and "**REGRESSION**" in md


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    run = dict(binary([True, False]), comparison={"x": 1})
    path = tmp_path / "sub" / "baseline.json"
    write_baseline(run, path)
    loaded = load_baseline(path)
    assert "comparison" not in loaded
    assert loaded["per_case"] == run["per_case"]
    assert not compare_to_baseline(run, loaded).regressed
    assert [p.name for p in path.parent.iterdir()] == ["baseline.json"]  # no temp file left


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "baseline file not found"),
        ("{not json", "not JSON (line 1"),
        ("[]", "a baseline is a JSON object"),
        ('{"format": "other"}', "format: expected 'llmkit.eval.summary/1'"),
        ('{"format": "llmkit.eval.summary/1"}', "per_case: missing the per-case scores"),
        (
            '{"format": "llmkit.eval.summary/1", "per_case": {"a": {"passed": true, '
            '"scores": {"s": {"score": "high", "passed": true}}}}}',
            "per_case.a.scores.s: expected {score: number, passed: bool}",
        ),
    ],
)
def test_a_bad_baseline_file_is_a_config_error_naming_it(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_baseline(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_write_refuses_a_summary_without_per_case_scores(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="per_case"):
        write_baseline({"format": "llmkit.eval.summary/1"}, tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"threshold": 2}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"alpha": 0}, "alpha"),
        ({"n_resamples": 10}, "n_resamples"),
        ({"seed": -1}, "seed"),
        ({"thresholds": {"judge": "x"}}, "thresholds.judge"),
        ({"thresholds": [1]}, "thresholds"),
        ({"treshold": 0.1}, "treshold"),
        ({"file": ""}, "file"),
    ],
)
def test_bad_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(BaselineError) as info:
        validate_baseline_settings(settings)
    assert info.value.field == field


def test_settings_defaults() -> None:
    assert validate_baseline_settings(None) == {
        "threshold": 0.05,
        "alpha": 0.05,
        "thresholds": {},
        "n_resamples": 2000,
        "seed": 0,
    }
