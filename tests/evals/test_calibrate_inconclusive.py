"""``llmkit calibrate`` against the embedded engine: its default scenario answers a judge's
prompt with verdicts that parse; an engine that cannot (no usable item) is exit 3 and
nothing is saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .test_calibrate import db, run_cli, write_suite

__all__ = ["db"]  # the store fixture, shared with test_calibrate

ALIASES = ("judge-model", "model-under-test")


def test_the_default_engine_answers_as_a_judge(
    tmp_path: Path, db: str, make_engine: Callable[..., Any]
) -> None:
    engine = make_engine(aliases=ALIASES)
    suite = str(write_suite(tmp_path))
    args = ["--scorer", "helpful", "--db", db, "--json"]
    recorded = run_cli(suite, *args, "--mode", "record", "--base-url", engine.base_url)
    assert recorded.exit_code == 0, recorded.output
    result = json.loads(recorded.stdout)
    assert result["n_judged"] == 8 and result["unreadable"] == []
    # Apologies and bare answers rate 2, the rest 4 (the default scenario's judge rules).
    assert sorted(result["ratings"].values()) == ["2", "2", "2", "2", "2", "4", "4", "4"]
    assert (tmp_path / "judged.calibration.json").is_file()
    replayed = run_cli(suite, *args)
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["ratings"] == result["ratings"]


def test_no_readable_verdict_is_exit_3_and_nothing_saved(
    tmp_path: Path, db: str, make_engine: Callable[..., Any]
) -> None:
    scenario = tmp_path / "chatty.yaml"
    rule = {"name": "chatty", "match": {"any": "."}, "answers": ["I think it is good!!"]}
    scenario.write_text(yaml.safe_dump({"name": "chatty", "rules": [rule]}), encoding="utf-8")
    engine = make_engine(aliases=ALIASES, scenario=scenario)
    suite = write_suite(tmp_path)
    args = ["--scorer", "helpful", "--db", db, "--mode", "record", "--base-url", engine.base_url]
    result = run_cli(str(suite), *args)
    assert result.exit_code == 3, result.output
    assert "no usable items (8 judged, 8 with an unreadable verdict); nothing saved" in (
        result.stderr
    )
    assert not (tmp_path / "judged.calibration.json").exists()
