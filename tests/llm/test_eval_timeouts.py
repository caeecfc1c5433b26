"""`llmkit eval --mode record` holds the limits it is given against a server that never
answers (keep-alive comments only): every case's error names the configured limit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import Hostile

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_record_against_a_silent_server_stops_at_the_given_limits(
    hostile: Callable[..., Hostile], tmp_path: Path
) -> None:
    server = hostile("comments", duration=120)  # without the limits: 600 s a call
    (tmp_path / "prompts").mkdir()
    suite = tmp_path / "prompts" / "support_ticket.eval.yaml"
    shutil.copy(ROOT / "prompts" / "support_ticket.eval.yaml", suite)
    ran = subprocess.run(
        [sys.executable, "-m", "llmkit", "eval", str(suite), "--mode", "record",
         "--base-url", server.base_url, "--timeout", "2", "--stall-timeout", "0.5",
         "--concurrency", "8", "--json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 2, ran.stderr  # the endpoint cannot be used
    summary = json.loads(ran.stdout)
    assert summary["passed_cases"] == 0 and summary["errors"]
    for error in summary["errors"]:
        assert "total call timeout of 2 s" in error or "no chunk for 0.5 s" in error, error
    assert server.requests > 0


def test_limits_are_positive_seconds(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "llmkit", "eval", str(ROOT / "prompts" / "support_ticket.eval.yaml"),
         "--timeout", "0"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 2 and "--timeout" in ran.stderr and "Traceback" not in ran.stderr
