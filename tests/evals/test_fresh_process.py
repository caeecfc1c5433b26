"""The example suite replays from a fresh interpreter, as CI runs ``llmkit eval``.

In-process tests share one interpreter whose earlier imports can hide an import-order bug:
the first prompt rendered in a process once lacked the hint lines (the rule registry had
not loaded), so its first case no longer matched its recording.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import SUITE


@pytest.mark.slow
def test_example_suite_replays_in_a_fresh_process() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "llmkit", "eval", str(SUITE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr


def test_hint_lines_in_a_fresh_process() -> None:
    code = "from llmkit.structured import format_instructions as f; print(f(None, hints=True))"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Rules:" in ran.stdout, ran.stderr
