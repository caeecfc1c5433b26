"""The canary judge: verdicts and exit codes over a real call log, the p95 comparison that
catches a slow tail for 10% of users, and the alpha-spending rule under repeated checks."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmkit.llm import CallLog
from llmkit.watch import VariantSample, judge
from llmkit.watch._canary import alpha_for_check

from .test_rules import _main


def _rows(
    variant: str,
    n: int,
    rng: np.random.Generator,
    *,
    itl_ms: float = 20.0,
    slow_share: float = 0.0,
    failed_share: float = 0.01,
    error_share: float = 0.0,
) -> list[dict[str, Any]]:
    now = time.time()
    rows = []
    for i in range(n):
        error = rng.random() < error_share
        slow = rng.random() < slow_share
        row: dict[str, Any] = {
            "started_at": now - rng.uniform(1, 1800),
            "base_url": "http://127.0.0.1/v1",
            "model": "m",
            "request_json": "{}",
            "attempts": 1,
            "attempts_json": "[]",
            "variant": variant,
        }
        if error:
            row.update(error_type="ServerError", error="500")
        else:
            itl = rng.lognormal(np.log(itl_ms * (3.0 if slow else 1.0)), 0.2)
            row.update(
                ttft_ms=rng.lognormal(np.log(200), 0.3),
                mean_itl_ms=itl,
                e2e_ms=200 + 100 * itl,
                finish_reason="stop",
                structured_stage="failed" if rng.random() < failed_share else "clean",
                response_id=f"{variant}-{i}",
            )
        rows.append(row)
    return rows


def _log(path: Path, rows: list[dict[str, Any]]) -> Path:
    CallLog(path).close()  # creates the current schema
    columns = sorted({key for row in rows for key in row})
    with sqlite3.connect(path) as db:
        db.executemany(
            f"INSERT INTO calls ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [[row.get(c) for c in columns] for row in rows],
        )
    return path


COMPARE = ["watch", "compare", "--baseline", "A", "--canary", "B"]


def _compare(db: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _main(
            [
                *COMPARE,
                "--log-path",
                str(db),
                "--json",
                *extra,
            ]
        )
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else {}


def test_an_equal_canary_is_promoted(tmp_path: Path) -> None:
    # A fixed draw; a false roll-back happens at most alpha of the time (see the simulation).
    rng = np.random.default_rng(11)
    db = _log(tmp_path / "calls.db", _rows("A", 600, rng) + _rows("B", 300, rng))
    code, verdict = _compare(db)
    assert (code, verdict["verdict"]) == (0, "promote")
    assert verdict["samples"] == {"A": 600, "B": 300}
    assert verdict["failing"] == []


def test_malformed_answers_and_a_slow_tail_roll_back_naming_the_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    rows = _rows("A", 800, rng) + _rows("B", 400, rng, slow_share=0.10, failed_share=0.08)
    db = _log(tmp_path / "calls.db", rows)
    code, verdict = _compare(db)
    assert (code, verdict["verdict"]) == (1, "rollback")
    assert "parse_failure_rate" in verdict["failing"]
    assert "itl_p95" in verdict["failing"]
    assert "critical metric failed: parse_failure_rate" in verdict["reason"]


def test_the_p95_comparison_catches_a_tail_the_trimmed_median_misses() -> None:
    rng = np.random.default_rng(3)
    base = rng.lognormal(np.log(20), 0.2, 2000)
    slow = rng.random(1000) < 0.10
    canary = rng.lognormal(np.log(20), 0.2, 1000) * np.where(slow, 3.0, 1.0)
    rates = {"error_rate": (0, 2000)}
    verdict = judge(
        VariantSample(2000, {"itl": base}, rates),
        VariantSample(1000, {"itl": canary}, {"error_rate": (0, 1000)}),
        critical=["error_rate"],
    )
    by_name = {m.name: m for m in verdict.metrics}
    assert by_name["itl"].status == "pass"  # the median barely moves
    assert by_name["itl_p95"].status == "fail"
    assert by_name["itl_p95"].canary is not None and by_name["itl_p95"].canary > 0.10


def test_too_few_samples_is_inconclusive(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    db = _log(tmp_path / "calls.db", _rows("A", 300, rng) + _rows("B", 20, rng))
    code, verdict = _compare(db)
    assert (code, verdict["verdict"]) == (3, "inconclusive")
    assert "B" in verdict["reason"]


def test_misuse_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    db = _log(tmp_path / "calls.db", _rows("A", 60, rng) + _rows("B", 60, rng))
    assert _compare(db, "--since", "yesterday")[0] == 2
    assert "--since" in capsys.readouterr().err
    assert (
        _main(["watch", "compare", "--baseline", "A", "--canary", "C", "--log-path", str(db)]) == 2
    )
    assert "'C' never appears" in capsys.readouterr().err
    assert (
        _main(
            [
                *COMPARE,
                "--log-path",
                str(tmp_path / "none.db"),
            ]
        )
        == 2
    )
    assert _compare(db, "--critical", "vibes")[0] == 2
    assert _compare(db, "--alpha", "1.5")[0] == 2


def test_the_table_names_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(6)
    db = _log(tmp_path / "calls.db", _rows("A", 200, rng) + _rows("B", 200, rng, error_share=0.3))
    assert _main([*COMPARE, "--log-path", str(db)]) == 1
    out = capsys.readouterr().out
    assert "rollback" in out and "error_rate" in out
    # A baseline rate of 0 has no ratio: the JSON says so with null, never Infinity.
    code, verdict = _compare(db)
    errors = next(m for m in verdict["metrics"] if m["name"] == "error_rate")
    assert (code, errors["baseline"], errors["change"], errors["status"]) == (1, 0.0, None, "fail")
    assert "from 0" in errors["reason"]


def _null_rollout(
    rng: np.random.Generator, checks: int, step: int, alpha: float, spend: bool
) -> bool:
    """One rollout with no difference between the variants, checked after every step."""
    base_itl = rng.lognormal(np.log(20), 0.3, checks * step * 4)
    can_itl = rng.lognormal(np.log(20), 0.3, checks * step)
    base_err = rng.random(checks * step * 4) < 0.02
    can_err = rng.random(checks * step) < 0.02
    for k in range(1, checks + 1):
        nb, nc = k * step * 4, k * step
        verdict = judge(
            VariantSample(
                nb, {"itl": base_itl[:nb]}, {"error_rate": (int(base_err[:nb].sum()), nb)}
            ),
            VariantSample(nc, {"itl": can_itl[:nc]}, {"error_rate": (int(can_err[:nc].sum()), nc)}),
            alpha=alpha,
            check=k if spend else 1,
            tolerance=0.0,
            critical=["error_rate"],
            min_samples=20,
        )
        if verdict.verdict == "rollback":
            return True
    return False


def test_repeated_checks_under_no_difference_reject_at_most_alpha() -> None:
    rng = np.random.default_rng(20)
    alpha = 0.05
    rollouts = 1000
    rejected = sum(
        _null_rollout(rng, checks=6, step=40, alpha=alpha, spend=True) for _ in range(rollouts)
    )
    assert rejected / rollouts <= alpha
    # The spending sums to alpha over any number of checks.
    assert sum(alpha_for_check(alpha, k) for k in range(1, 100_000)) == pytest.approx(
        alpha, rel=1e-4
    )


def _write_scores(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_scores_that_drop_on_the_canary_roll_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    db = _log(tmp_path / "calls.db", _rows("A", 300, rng) + _rows("B", 300, rng))
    now = time.time()
    grades = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    scores = [
        {"variant": "A", "scorer": "helpful", "score": float(s), "at": now - 60}
        for s in rng.choice(grades, 200, p=[0.05, 0.05, 0.1, 0.3, 0.5])
    ] + [
        {"variant": "B", "scorer": "helpful", "score": float(s), "at": now - 60}
        for s in rng.choice(grades, 200, p=[0.2, 0.2, 0.2, 0.2, 0.2])
    ]
    path = _write_scores(tmp_path / "scores.jsonl", scores)
    code, verdict = _compare(db, "--scores", str(path), "--critical", "score:helpful")
    assert (code, verdict["verdict"]) == (1, "rollback")
    assert verdict["failing"] == ["score:helpful"]
    helpful = next(m for m in verdict["metrics"] if m["name"] == "score:helpful")
    assert helpful["canary"] < helpful["baseline"] and helpful["change"] < 0
    # The same scores on both sides pass.
    same = [{**row, "variant": "A"} for row in scores[200:]] + scores[200:]
    path = _write_scores(tmp_path / "same.jsonl", same)
    code, verdict = _compare(db, "--scores", str(path))
    assert code == 0, verdict["reason"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("not json", "not JSON"),
        ('{"scorer": "h", "score": 2, "at": 1}', "from 0 to 1"),
        ('{"score": 0.5, "at": 1}', "'scorer'"),
        ('{"scorer": "h", "score": 0.5}', "'at'"),
    ],
)
def test_a_bad_score_line_is_misuse_naming_file_and_line(
    tmp_path: Path, line: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(9)
    db = _log(tmp_path / "calls.db", _rows("A", 60, rng) + _rows("B", 60, rng))
    path = tmp_path / "scores.jsonl"
    path.write_text('{"variant": "A", "scorer": "h", "score": 1, "at": 1}\n' + line + "\n")
    assert _compare(db, "--scores", str(path))[0] == 2
    err = capsys.readouterr().err
    assert f"{path}:2" in err and needle in err
