"""Plain columns of the base install's commands: aligned, numbers right, no escape reaches
the terminal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmkit.cli._columns import columns_text, display_width, printable, safe_cell


def test_columns_align_and_numbers_sit_right() -> None:
    text = columns_text(
        ("model", "e2e_ms"), [("sim", "12.5"), ("a-longer-name", "3.0")], numeric=("e2e_ms",),
        title="last 2 calls",
    )  # fmt: skip
    assert text == (
        "last 2 calls\n"
        "model          e2e_ms\n"
        "-------------  ------\n"
        "sim              12.5\n"
        "a-longer-name     3.0\n"
    )


def test_a_table_without_rows_still_shows_its_headers() -> None:
    assert columns_text(("rule", "count"), []) == "rule  count\n----  -----\n"


def test_escape_sequences_and_line_breaks_from_a_server_are_shown_escaped() -> None:
    text = columns_text(("model",), [("evil\x1b[2J\nnext",)])
    assert "\x1b" not in text and "\\x1b[2J\\nnext" in text
    assert text.count("\n") == 3  # header, rule, one row


def test_wide_characters_take_two_columns() -> None:
    text = columns_text(("name", "n"), [("日本", "1"), ("ab", "2")], numeric=("n",))
    rows = text.splitlines()[2:]
    assert [display_width(row) for row in rows] == [7, 7]


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells under 1 headers"):
        columns_text(("a",), [("x", "y")])


@given(st.text())
def test_printable_output_has_no_control_character(text: str) -> None:
    shown = safe_cell(text)
    assert shown.isprintable()
    assert printable(text, keep="\n").replace("\n", "").isprintable()
    if text.isprintable():
        assert shown == text
