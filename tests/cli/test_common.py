"""Shared CLI helpers: tables fold to fit instead of cutting, bad input is one line + exit 2."""

from __future__ import annotations

import io
from collections import Counter

import click
import pytest
from click.testing import CliRunner

from llmkit.cli._common import BadInputError, console, make_table

WARNING = "client-bound: the achieved rate 31.5/s fell short of the asked 80/s"


def _render(width: int, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    table = make_table(
        "level", "requests", "rate", "ttft_ms.p99", "warnings",
        title="bench", numeric=("requests", "rate", "ttft_ms.p99"),
    )  # fmt: skip
    table.add_row("c=64", "1234", "31.5", "98765.4", WARNING)
    buffer = io.StringIO()
    console(buffer).print(table)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [80, 60, 40, 24])
def test_tables_fold_instead_of_cutting(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _render(width, monkeypatch)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    # Every character of every header and cell is still there, only moved to more lines.
    wanted = Counter("".join(["level", "requests", "rate", "ttft_ms.p99", "warnings"]))
    wanted += Counter("".join(["c=64", "1234", "31.5", "98765.4", WARNING]).replace(" ", ""))
    assert not wanted - Counter(text)


def test_numbers_stay_whole_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _render(80, monkeypatch)
    for value in ("1234", "31.5", "98765.4"):
        assert value in text  # on one line, not folded: the text column gave up room first


def test_piped_console_writes_no_colour_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[" not in _render(80, monkeypatch)


def test_bad_input_is_one_line_and_exit_2() -> None:
    @click.command()
    def cmd() -> None:
        raise BadInputError("--thing: x.yaml:3:1: not valid YAML: a tab")

    result = CliRunner().invoke(cmd, [])
    assert result.exit_code == 2
    assert result.stderr == "error: --thing: x.yaml:3:1: not valid YAML: a tab\n"
