"""Where the example suite is (the evaluation part of ``llmkit demo`` replays it)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["example_suite_path"]


def example_suite_path() -> Path:
    """The example suite: the checkout's ``prompts/`` (its cassettes in ``cassettes/``), or
    the copy the build ships inside the package (its cassettes beside it)."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "prompts" / "support_ticket.eval.yaml"
    return checkout if checkout.is_file() else here.parent / "data" / "support_ticket.eval.yaml"
