"""Subpackage facades export the library; the command line keeps its own helpers."""

from __future__ import annotations

import importlib

import pytest

CLI_HELPERS = ("EXIT_STATUS", "run_demo", "print_summary", "compare_table", "fit_table")


@pytest.mark.parametrize("package", ["llmkit.bench", "llmkit.annotate", "llmkit.evals"])
def test_no_cli_helper_in_a_facade(package: str) -> None:
    names = set(importlib.import_module(package).__all__)
    assert not names & set(CLI_HELPERS), package
    assert not [n for n in names if n.startswith("parse_") and n.endswith("_list")], package
    assert "parse_duration" not in names


def test_the_top_facade_has_what_every_client_user_needs() -> None:
    import llmkit

    for name in ("Client", "AsyncClient", "Timeouts", "RetryPolicy", "parse", "MissingExtraError"):
        assert name in llmkit.__all__, name
    assert llmkit.Timeouts is importlib.import_module("llmkit.llm").Timeouts
