"""JSON's own punctuation is never swallowed into a string (issue 14 §2).

When the engine answers, it agrees with a careful human reading; when it cannot tell,
the answer fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmkit.structured import parse


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"key": ["value" "value1" "value2"]}', {"key": ["value", "value1", "value2"]}),
        ('["a" "b"]', ["a", "b"]),
        ('["a b",\n ,"c d"]', ["a b", "c d"]),
        (
            '{ "words": abcdef", "numbers": 12345", "words2": ghijkl" }',
            {"words": "abcdef", "numbers": "12345", "words2": "ghijkl"},
        ),
        ('["He said "hi" to me"]', ['He said "hi" to me']),
    ],
)
def test_careful_reading(text: str, value: Any) -> None:
    r = parse(text, None, format="json")
    assert r.ok and r.value == value, (r.value, r.repairs)


@pytest.mark.parametrize("text", ['["key":"value"]', '["a", "key": 1]'])
def test_a_key_inside_a_list_fails(text: str) -> None:
    r = parse(text, None, format="json")
    assert not r.ok, r.value


def test_no_key_is_made_of_punctuation() -> None:
    r = parse('{ "a": x", "b": 1", "c": y" }', None, format="json")
    assert not r.ok or all(k.isalnum() for k in r.value), r.value
