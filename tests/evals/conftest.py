"""Fixtures for the eval tests: a private copy of the example suite with its cassettes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "prompts" / "support_ticket.eval.yaml"
CASSETTES = REPO / "cassettes" / "support_ticket"


@pytest.fixture
def suite_copy(tmp_path: Path) -> Path:
    """``tmp/prompts/support_ticket.eval.yaml`` with ``tmp/cassettes/support_ticket/``."""
    (tmp_path / "prompts").mkdir()
    dest = tmp_path / "prompts" / SUITE.name
    shutil.copy(SUITE, dest)
    shutil.copytree(CASSETTES, tmp_path / "cassettes" / "support_ticket")
    return dest
