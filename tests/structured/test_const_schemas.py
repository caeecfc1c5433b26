"""`const` schemas and unions of consts read like enums (issue #7): a scalar answered in a
sentence takes the one listed value it names; two listed values named is a conflict."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import llmkit

_CONST = {"const": "TWO"}
_TYPED_CONST = {"type": "string", "const": "TWO"}
_ANY_OF = {"anyOf": [{"const": "ONE"}, {"const": "TWO"}, {"const": "THREE"}]}
_ONE_OF = {"oneOf": [{"const": "ONE"}, {"enum": ["TWO", "THREE"]}]}
_SCHEMAS = [_CONST, _TYPED_CONST, _ANY_OF, _ONE_OF]

_SENTENCES = [
    f"{before}{word}{after}"
    for before, word, after in itertools.product(
        ["", "The answer is ", "Final answer: ", "I'd say ", "Réponse : "],
        ["TWO", "Two", "two"],
        ["", ".", "!@#", " is the answer", " (most likely)."],
    )
]


@pytest.mark.parametrize("schema", _SCHEMAS, ids=["const", "typed", "anyOf", "oneOf"])
@pytest.mark.parametrize("text", _SENTENCES)
def test_the_one_value_named_is_taken(text: str, schema: Any) -> None:
    result = llmkit.parse(text, schema)
    assert result.ok, (text, result.error)
    assert result.value == "TWO"
    assert result.stage == ("clean" if text == "TWO" else "repaired")


@pytest.mark.parametrize("schema", [_ANY_OF, _ONE_OF], ids=["anyOf", "oneOf"])
@pytest.mark.parametrize("text", ["ONE or TWO", "Either two or three.", "ONE, then TWO"])
def test_two_listed_values_are_a_conflict(text: str, schema: Any) -> None:
    assert not llmkit.parse(text, schema).ok


@pytest.mark.parametrize("schema", _SCHEMAS, ids=["const", "typed", "anyOf", "oneOf"])
@pytest.mark.parametrize("text", ["not TWO", "FOUR", "The answer is four.", "TWOFOLD"])
def test_no_listed_value_or_a_negated_one_fails(text: str, schema: Any) -> None:
    assert not llmkit.parse(text, schema).ok


def test_a_union_with_a_non_literal_branch_is_not_read_from_prose() -> None:
    schema = {"anyOf": [{"const": "ONE"}, {"type": "integer"}]}
    result = llmkit.parse("The answer is ONE, I think", schema)
    assert not result.ok
