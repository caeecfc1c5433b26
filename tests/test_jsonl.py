"""The one JSON-lines reader: values with their places, a bad line named by file:line."""

from __future__ import annotations

import pytest

from llmkit._exceptions import ConfigError
from llmkit._jsonl import json_lines


def test_values_come_with_their_line_and_blank_lines_are_skipped() -> None:
    got = list(json_lines(['{"a": 1}', "", "  ", "[2]"], "f.jsonl"))
    assert got == [("f.jsonl:1", {"a": 1}), ("f.jsonl:4", [2])]


@pytest.mark.parametrize(
    ("line", "says"),
    [("{nope", "f.jsonl:2: not JSON ("), ("[" * 100_000 + "]" * 100_000, "f.jsonl:2: JSON nested")],
)
def test_a_bad_line_is_one_config_error_naming_it(line: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        list(json_lines(["{}", line], "f.jsonl"))
    assert str(caught.value).startswith(says)
