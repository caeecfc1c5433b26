"""Repeat reducers (all, mean, majority, at least k of n) and the paired test per case."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmkit.evals import CaseRun, EvalRun, ScoreRecord, SuiteError, compare_to_baseline, load_suite
from llmkit.evals._reducers import parse_reducer, reduce_repeats

SUITE = """\
name: rep
prompt:
  messages: [{role: user, content: "Say {{word}}"}]
REDUCER
scorers: [{type: contains, value: hi}]
cases:
  - {id: a, vars: {word: x}, repeat: 3}
  - {id: b, vars: {word: x}, repeat: 3, reducer: {at_least: 3}}
  - {id: c, vars: {word: x}, repeat: 3}
"""


@pytest.mark.parametrize(
    ("reducer", "passes", "expected"),
    [
        ("all", [True, True, False], (2 / 3, False)),
        ("all", [True, True, True], (1.0, True)),
        ("mean:0.5", [True, True, False], (2 / 3, True)),
        ("mean:0.8", [True, True, False], (2 / 3, False)),
        ("majority", [True, True, False], (1.0, True)),
        ("majority", [True, False], (0.0, False)),  # a tie fails
        ("at_least:1", [False, False, True], (1.0, True)),
        ("at_least:3", [True, True, False], (0.0, False)),
    ],
)
def test_reduce_repeats(reducer: str, passes: list[bool], expected: tuple[float, bool]) -> None:
    score, ok = reduce_repeats(reducer, [float(p) for p in passes], passes)
    assert (score, ok) == (pytest.approx(expected[0]), expected[1])


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("all", "all"),
        ("mean", "mean:0.5"),
        ({"mean": 0.8}, "mean:0.8"),
        ("majority", "majority"),
        ({"at_least": 2}, "at_least:2"),
    ],
)
def test_parse_reducer(written: object, canonical: str) -> None:
    assert parse_reducer(written) == canonical


def _suite(tmp_path: Path, reducer: str) -> Path:
    path = tmp_path / "rep.eval.yaml"
    path.write_text(SUITE.replace("REDUCER", reducer))
    return path


@pytest.mark.parametrize("bad", ["reducer: median", "reducer: {at_least: 0}", "reducer: {mean: 2}"])
def test_bad_reducer_names_the_line(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SuiteError) as info:
        load_suite(_suite(tmp_path, bad))
    assert info.value.line == 4 and info.value.field == "reducer"


def _run(tmp_path: Path, reducer: str, pattern: dict[str, list[bool]]) -> EvalRun:
    suite = load_suite(_suite(tmp_path, reducer))
    runs = []
    for case in suite.cases:
        records = tuple(
            ScoreRecord("rep", case.id, i, "contains", "contains", float(p), p)
            for i, p in enumerate(pattern[case.id])
        )
        runs.append(CaseRun(case, records))
    return EvalRun(suite, "replay", tuple(runs), 0.0)


def test_suite_and_case_reducers_decide_the_verdict(tmp_path: Path) -> None:
    pattern = {"a": [True, False, True], "b": [True, True, False], "c": [False, False, True]}
    run = _run(tmp_path, "reducer: majority", pattern)
    assert [c.passed for c in run.cases] == [True, False, False]  # b keeps its at_least 3
    summary = run.summary()
    assert summary["per_case"]["a"]["scores"]["contains"]["reducer"] == "majority"
    assert summary["per_case"]["b"]["scores"]["contains"]["reducer"] == "at_least:3"
    assert summary["passed_cases"] == 1
    default = _run(tmp_path, "", pattern).summary()
    assert default["passed_cases"] == 0
    assert "reducer" not in default["per_case"]["a"]["scores"]["contains"]  # format unchanged


def test_paired_test_has_one_pair_per_case_whatever_the_repeats(tmp_path: Path) -> None:
    before = {"a": [True] * 3, "b": [True] * 3, "c": [True] * 3}
    after = {"a": [True, False, False], "b": [True, True, True], "c": [False, True, True]}
    then = _run(tmp_path, "reducer: mean", before).summary()
    now = _run(tmp_path, "reducer: mean", after).summary()
    comparison = compare_to_baseline(now, then)
    metrics = {m.metric: m for m in comparison.metrics}
    assert {m.n for m in comparison.metrics} == {3}  # 3 cases, not 9 repeats
    # the graded (mean) score is compared by the paired bootstrap over cases
    assert metrics["contains.score"].before == 1.0
    assert metrics["contains.score"].after == pytest.approx((1 / 3 + 1 + 2 / 3) / 3)
    assert metrics["cases.pass"].lost == 1  # a: mean 1/3 < 0.5 fails; c: 2/3 passes
