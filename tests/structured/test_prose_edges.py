"""Prose lines at the edges of a YAML payload never stay keys (issue #7), read by structure.

The phrasings are generated from parts (words, punctuation, apostrophes, parentheses,
numbers, non-ASCII letters) so that no phrase list can pass them; the invariant checked
is the same everywhere: the value is the payload, and no prose label is one of its keys.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

import llmkit

_PAYLOAD = "name: Eli Navarro\nage: 34\nemail: eli@example.com"
_WANT = {"name": "Eli Navarro", "age": 34, "email": "eli@example.com"}
_PROPS = {"name": {"type": "string"}, "age": {"type": "integer"}, "email": {"type": "string"}}
_OPEN = {"type": "object", "properties": _PROPS, "required": ["name", "age"]}
_CLOSED = {**_OPEN, "additionalProperties": False}

_OPENERS = ["Answer", "Here's", "Result", "Output", "Réponse", "Okay, so", "My reply", "Done"]
_MIDDLES = ["", " (YAML)", " the YAML you asked for", " for ticket 42", " — as requested", " #2"]
# a label alone (`Output:`), or a label and a sentence (`Result: here it is.`)
_ENDINGS = [":", " :", ": here it is.", ": see below", ": the data you wanted!"]


def _leads() -> list[str]:
    out = []
    for opener, middle, end in itertools.product(_OPENERS, _MIDDLES, _ENDINGS):
        if "#" in middle and end != ":":
            continue  # `x #2: y` is a comment after `x`: another case, read elsewhere
        out.append(f"{opener}{middle}{end}")
    return out


_TAILS = [
    "",
    "Note: the age is my best guess.",
    "Let me know if you'd like changes:",
    "Hope this helps (it's from the ticket)!",
    "P.S.: the email was in the signature.",
]


def _parse(text: str, schema: Any) -> llmkit.StructuredResult:
    return llmkit.parse(text, schema, format="yaml")


@pytest.mark.parametrize("schema", [_OPEN, _CLOSED], ids=["open", "closed"])
@pytest.mark.parametrize("lead", _leads())
def test_leading_prose_line_never_becomes_a_key(lead: str, schema: Any) -> None:
    for sep, tail in zip(["\n", "\n\n"], _TAILS[:2], strict=True):
        text = f"{lead}{sep}{_PAYLOAD}" + (f"\n\n{tail}" if tail else "")
        result = _parse(text, schema)
        assert result.ok, (text, result.error)
        assert result.value == _WANT, text
        assert result.stage == "repaired", text


@pytest.mark.parametrize("schema", [_OPEN, _CLOSED], ids=["open", "closed"])
@pytest.mark.parametrize("tail", _TAILS[1:])
@pytest.mark.parametrize("blank", ["\n", "\n\n"])
def test_trailing_prose_line_never_becomes_a_key(tail: str, blank: str, schema: Any) -> None:
    result = _parse(f"{_PAYLOAD}{blank}{tail}", schema)
    assert result.ok and result.value == _WANT
    assert result.stage == "repaired"


@pytest.mark.parametrize("tail", ["", "\n\nLet me know if you'd like changes:"])
@pytest.mark.parametrize(
    "lead",
    [
        f"{a}{b}{c}:"
        for a, b, c in itertools.product(
            ["Here's", "Answer", "Voilà", "Result", "The extracted data"],
            [" (YAML)", " you asked for", " — le résultat", " for ticket 42"],
            ["", " (final)", " below"],
        )
    ],
)
def test_without_schema_a_multi_word_label_above_a_mapping_is_prose(lead: str, tail: str) -> None:
    text = f"{lead}\n{_PAYLOAD}{tail}"
    result = _parse(text, None)
    assert result.ok and result.value == _WANT, (text, result.value)
    assert result.stage == "repaired"
    assert "strip_prose_line" in result.repairs or "strip_prose" in result.repairs


@pytest.mark.parametrize("lead", ["Answer (YAML):", "Here's the JSON you asked for:", "Output:"])
def test_json_after_a_prose_label(lead: str) -> None:
    text = f"{lead}\n{json.dumps(_WANT)}"
    for schema in (_OPEN, _CLOSED, None):
        result = llmkit.parse(text, schema)
        assert result.ok and result.value == _WANT


def test_a_key_the_schema_names_is_never_dropped() -> None:
    schema = {**_OPEN, "properties": {**_PROPS, "answer": {"type": ["string", "null"]}}}
    for sch in (schema, {**schema, "additionalProperties": False}):
        result = _parse(f"Answer:\n{_PAYLOAD}", sch)
        assert result.ok and {k.lower() for k in result.value} == {"answer", *_WANT}
    # a label the schema names, above the same key written again: two candidates
    result = _parse(f"Name: here it is.\n{_PAYLOAD}", _OPEN)
    assert not result.ok


def test_a_valid_document_with_a_data_key_stays_as_written() -> None:
    # `notes:` is a plausible key: the open schema allows it, so the document is valid
    text = f"notes:\n{_PAYLOAD}"
    result = _parse(text, _OPEN)
    assert result.stage == "clean" and result.value == {"notes": None, **_WANT}
    # with additionalProperties false the document fails with it and validates without
    result = _parse(text, _CLOSED)
    assert result.value == _WANT and result.stage == "repaired"
    # without a schema a one-word label is data
    result = _parse(f"Output:\n{_PAYLOAD}", None)
    assert result.value == {"Output": None, **_WANT} and result.stage == "clean"


def test_a_label_that_opens_a_block_is_the_document() -> None:
    schema = {"type": "object"}
    text = "My answer (final):\n  name: Eli\n  age: 4"
    result = _parse(text, schema)
    assert result.ok and result.value == {"My answer (final)": {"name": "Eli", "age": 4}}


def test_only_edge_lines_are_dropped() -> None:
    # a prose-shaped line in the middle is no edge: the closed schema fails, not guesses
    text = "name: Eli Navarro\nHere's the rest:\nage: 34\nemail: eli@example.com"
    result = _parse(text, _CLOSED)
    assert not (result.ok and "Here's the rest" in result.value)
    assert result.value in (None, _WANT)


@pytest.mark.parametrize(
    "text",
    [
        "'{\"\"}': 1\n",
        "'{\"\"}': null\n",
        '"{\\"k\\"}": 2\n',
        "'[\"a\"]': x\n",
        '"{\\"\\x1F": {}\n',
    ],
)
def test_a_bracketed_key_written_in_quotes_is_a_key_not_a_payload(text: str) -> None:
    """Found by hypothesis: `'{""}': 1` came back `{"": None}`, stage repaired."""
    import yaml

    r = llmkit.parse(text, {"type": "object"}, format="yaml")
    assert (r.stage, r.value) == ("clean", yaml.safe_load(text))
