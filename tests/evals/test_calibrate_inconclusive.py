"""``llmkit calibrate`` with no usable item is inconclusive (exit 3) and saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .test_calibrate import db, run_cli, write_suite

__all__ = ["db"]  # the store fixture, shared with test_calibrate


def test_no_readable_verdict_is_exit_3_and_nothing_saved(
    tmp_path: Path, db: str, make_engine: Callable[..., Any]
) -> None:
    # The plain engine answers with prose, not a verdict: every judge answer is unreadable.
    engine = make_engine(aliases=("judge-model", "model-under-test"))
    suite = write_suite(tmp_path)
    args = ["--scorer", "helpful", "--db", db, "--mode", "record", "--base-url", engine.base_url]
    result = run_cli(str(suite), *args)
    assert result.exit_code == 3, result.output
    assert "no usable items (8 judged, 8 with an unreadable verdict); nothing saved" in (
        result.stderr
    )
    assert not (tmp_path / "judged.calibration.json").exists()
