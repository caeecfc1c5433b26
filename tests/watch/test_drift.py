"""Drift over a real call log: the parse-stage mix and a slow ITL tail are named, a steady
window is not, too few calls is inconclusive, and the report reaches the metrics export."""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmkit import watch as llmkit_watch

from ._scrape import scrape, total
from .test_canary import _log, _rows
from .test_rules import _main

DAY = 86400.0


def _shifted(rows: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """Spread rows over one day starting at ``start``."""
    rng = np.random.default_rng(len(rows))
    return [{**row, "started_at": start + rng.uniform(0, DAY - 1)} for row in rows]


def _history(tmp_path: Path, *, current_bad: bool) -> Path:
    rng = np.random.default_rng(7)
    reference_day = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    reference = _shifted(_rows("A", 600, rng), reference_day)
    current = (
        _rows("A", 400, rng, slow_share=0.15, failed_share=0.12)
        if current_bad
        else _rows("A", 400, rng)
    )
    now = time.time()
    current = [
        {**row, "started_at": now - 3600 * (i % 20 + 1) / 2} for i, row in enumerate(current)
    ]
    return _log(tmp_path / "calls.db", reference + current)


def _drift(db: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _main(
            [
                "watch",
                "drift",
                "--reference",
                "2026-11-01..2026-11-01",
                "--current",
                "1d",
                "--log-path",
                str(db),
                "--json",
                *extra,
            ]
        )
    text = out.getvalue()
    return code, json.loads(text) if text.strip() else {}


def test_a_shift_names_the_parse_stage_mix_and_itl(tmp_path: Path) -> None:
    code, report = _drift(_history(tmp_path, current_bad=True))
    assert (code, report["verdict"]) == (1, "drift")
    assert {"parse_stage", "itl_ms"} <= set(report["drifted"])
    by_signal = {s["signal"]: s for s in report["signals"]}
    assert by_signal["itl_ms"]["wasserstein"] > 0
    assert by_signal["parse_stage"]["jensen_shannon"] > 0
    assert by_signal["parse_stage"]["wasserstein"] is None  # categories have no distance
    assert report["reference_calls"] == 600 and report["current_calls"] == 400


def test_a_steady_window_shows_no_drift(tmp_path: Path) -> None:
    code, report = _drift(_history(tmp_path, current_bad=False))
    assert (code, report["verdict"]) == (0, "no_drift"), report["reason"]


def test_too_few_calls_is_inconclusive_and_bad_windows_are_misuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _history(tmp_path, current_bad=True)
    code, report = _drift(db, "--min-samples", "5000")
    assert (code, report["verdict"]) == (3, "inconclusive")
    assert (
        _main(["watch", "drift", "--reference", "2026-11-07..2026-11-01", "--log-path", str(db)])
        == 2
    )
    assert "ends before it starts" in capsys.readouterr().err
    assert _main(["watch", "drift", "--reference", "last week", "--log-path", str(db)]) == 2


def test_the_table_and_the_gauges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _history(tmp_path, current_bad=True)
    args = ["watch", "drift", "--reference", "2026-11-01..2026-11-01", "--log-path", str(db)]
    assert _main(args) == 1
    assert "parse_stage" in capsys.readouterr().out
    from llmkit.llm import read_log

    frame = read_log(db)
    report = llmkit_watch.drift(
        llmkit_watch.select(frame, llmkit_watch.parse_window("2026-11-01..2026-11-01", "-", 0)),
        llmkit_watch.select(frame, llmkit_watch.parse_window("1d", "-", time.time())),
    )
    llmkit_watch.enable()
    server = llmkit_watch.serve_metrics(0)
    llmkit_watch.publish_drift(report)
    samples = scrape(server.url)
    itl = next(s for s in report.signals if s.signal == "itl_ms")
    assert total(samples, "llmkit_drift_p_value", llmkit_drift_signal="itl_ms") == pytest.approx(
        itl.p_adjusted
    )
    assert total(
        samples, "llmkit_drift_effect_size", llmkit_drift_signal="itl_ms"
    ) == pytest.approx(itl.jensen_shannon)


def test_a_shifted_score_mix_drifts_as_its_own_signal(tmp_path: Path) -> None:
    db = _history(tmp_path, current_bad=False)
    reference_day = datetime(2026, 11, 1, 12, tzinfo=UTC).timestamp()
    rng = np.random.default_rng(10)
    grades = [0.0, 0.5, 1.0]
    rows = [
        {"scorer": "helpful", "score": float(s), "at": reference_day}
        for s in rng.choice(grades, 300, p=[0.1, 0.2, 0.7])
    ] + [
        {"scorer": "helpful", "score": float(s), "at": time.time() - 600, "variant": "B"}
        for s in rng.choice(grades, 300, p=[0.3, 0.3, 0.4])
    ]
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, report = _drift(db, "--scores", str(path))
    assert (code, report["drifted"]) == (1, ["score:helpful"])
    helpful = next(s for s in report["signals"] if s["signal"] == "score:helpful")
    assert helpful["test"] == "chi-square" and helpful["reference_n"] == helpful["current_n"] == 300
