"""Recovery by error class (issue 7 §1-2): each class recovered, and its invariant kept.

These examples are written for the class, not copied from any corpus: the held-out
corpora stay independent checks (``python benchmarks/recovery.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from llmkit.structured import StreamParser, parse

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": ["string", "null"]},
    },
    "required": ["name", "age"],
}
SENTIMENT = {"type": "string", "enum": ["positive", "negative", "neutral"]}

# (class, text, schema, format, expected value, a repair that must be named)
RECOVERED: list[tuple[str, str, Any, str, Any, str]] = [
    ("hash value", "name: #ops\nage: 3", PERSON, "yaml", {"name": "#ops", "age": 3}, "hash_value"),
    (
        "hash item",
        "name: a\nage: 3\ntags:\n  - #x\n  - y",
        PERSON,
        "yaml",
        {"name": "a", "age": 3, "tags": ["#x", "y"]},
        "hash_value",
    ),
    (
        "hash nullable",
        "name: a\nage: 3\nnote: #todo",
        PERSON,
        "yaml",
        {"name": "a", "age": 3, "note": "#todo"},
        "hash_value",
    ),
    (
        "prose label before",
        "Answer:\nname: Eli\nage: 4",
        PERSON,
        "yaml",
        {"name": "Eli", "age": 4},
        "strip_prose_line",
    ),
    (
        "prose sentence before",
        "Sure: here are the details.\nname: Eli\nage: 4",
        PERSON,
        "auto",
        {"name": "Eli", "age": 4},
        "strip_prose_line",
    ),
    (
        "prose after",
        "name: Eli\nage: 4\nExplanation: I guessed the age.",
        PERSON,
        "yaml",
        {"name": "Eli", "age": 4},
        "strip_prose_line",
    ),
    (
        "json after prose label",
        "Output:\n{'name': 'Eli', 'age': 4, 'note': None}",
        PERSON,
        "yaml",
        {"name": "Eli", "age": 4, "note": None},
        "strip_prose",
    ),
    (
        "json after prose on one line",
        'Result: {"name": "Eli", "age": 4}\n\nSee the {docs}.',
        PERSON,
        "auto",
        {"name": "Eli", "age": 4},
        "strip_prose",
    ),
    (
        "colon in list item",
        "name: Eli\nage: 4\ntags:\n  - Step 1: open it\n  - done",
        PERSON,
        "yaml",
        {"name": "Eli", "age": 4, "tags": ["Step 1: open it", "done"]},
        "quote_colon_value",
    ),
    (
        "numbered key lines",
        "1. Name: Eli\n2. Age: 4",
        PERSON,
        "auto",
        {"name": "Eli", "age": 4},
        "key_value_lines",
    ),
    (
        "bulleted bold key lines",
        "Here you go:\n* **Name:** Eli\n* **Age:** 4",
        PERSON,
        "auto",
        {"name": "Eli", "age": 4},
        "key_value_lines",
    ),
    (
        "prose label with punctuation",
        "What I found (YAML):\nname: Eli\nage: 4",
        PERSON,
        "yaml",
        {"name": "Eli", "age": 4},
        "strip_prose_line",
    ),
    (
        "json inside a tag, an inner object opening a line",
        '<answer>{\n "name": "Eli",\n "tags": [\n  "a",\n ],\n "age": 4,\n}</answer>',
        PERSON,
        "auto",
        {"name": "Eli", "tags": ["a"], "age": 4},
        "json_trailing_commas",
    ),
    ("enum in a sentence", "The review is negative.", SENTIMENT, "auto", "negative", ""),
    ("boolean in a sentence", "No, it is not supported.", {"type": "boolean"}, "auto", False, ""),
    ("number in a sentence", "It costs 42.50 in total.", {"type": "number"}, "auto", 42.5, ""),
    (
        "python literals",
        "{'name': 'Eli', 'age': 4, 'tags': ('a', 'b'), 'note': None}",
        PERSON,
        "auto",
        {"name": "Eli", "age": 4, "tags": ["a", "b"], "note": None},
        "json_tuples",
    ),
]


@pytest.mark.parametrize(
    ("text", "schema", "fmt", "expected", "rule"),
    [c[1:] for c in RECOVERED],
    ids=[c[0] for c in RECOVERED],
)
def test_class_is_recovered(text: str, schema: Any, fmt: str, expected: Any, rule: str) -> None:
    r = parse(text, schema, format=fmt)
    assert r.ok, r.error
    assert r.value == expected
    assert r.stage == "repaired"
    assert not rule or rule in r.repairs, r.repairs


# (class, text, schema, format): each must fail rather than guess
FAILS: list[tuple[str, str, Any, str]] = [
    ("null is not a string", "name: null\nage: 3", PERSON, "yaml"),
    ("None is not a string", "{'name': None, 'age': 3}", PERSON, "auto"),
    ("two enum candidates", "Positive or negative, hard to say.", SENTIMENT, "auto"),
    ("negated enum", "It is not positive.", SENTIMENT, "auto"),
    ("two numbers", "Between 3 and 5.", {"type": "integer"}, "auto"),
    ("yes and no", "Yes and no.", {"type": "boolean"}, "auto"),
    ("no candidate", "I cannot tell.", SENTIMENT, "auto"),
    (
        "prose label rivals a key",
        "Name: the person is unknown.\nname: Eli\nage: 4",
        PERSON,
        "yaml",
    ),
    (
        "two fenced answers",
        '```json\n{"name": "A", "age": 1}\n```\n```json\n{"name": "B", "age": 2}\n```',
        PERSON,
        "auto",
    ),
    (
        "example and answer",
        'Example: {"name": "A", "age": 1}\nAnswer: {"name": "B", "age": 2}',
        PERSON,
        "auto",
    ),
    ("unquoted value with a comma", '{"name": Eli, Jr, "age": 4}', PERSON, "json"),
    ("key lines needing guesses", "1. Name: Eli\n2. Age: four", PERSON, "auto"),
    ("cut at the limit", "name: Eli\ntags:\n  - a", PERSON, "yaml"),
]


@pytest.mark.parametrize(
    ("text", "schema", "fmt"), [c[1:] for c in FAILS], ids=[c[0] for c in FAILS]
)
def test_class_fails_rather_than_guess(text: str, schema: Any, fmt: str) -> None:
    finish = "length" if "limit" in text or text.endswith("- a") else None
    r = parse(text, schema, format=fmt, finish_reason=finish)
    assert not r.ok, r.value
    assert r.value is None


def test_valid_answers_stay_clean() -> None:
    """A valid document is untouched, even with label-like keys the schema allows."""
    for text, schema in [
        ("name: Eli\nage: 4\nNote: x", PERSON),  # `Note: x` is no sentence: data
        ('{"Name": "x", "name": "y", "age": 3}', PERSON),
        ("name: '#ops'\nage: 3", PERSON),
        ("address: # home\n  street: x", {"type": "object"}),
    ]:
        r = parse(text, schema)
        assert r.stage == "clean", (text, r.repairs, r.error)


def test_a_comment_on_a_key_with_a_block_stays_a_comment() -> None:
    r = parse("address:  # where they live\n  city: Oslo\ntags: # none yet\n- a", None)
    assert r.value == {"address": {"city": "Oslo"}, "tags": ["a"]}


def test_stream_partial_never_holds_a_made_up_field() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "mode": {"type": "string", "default": "x"}},
    }
    p = StreamParser(schema)
    seen: list[dict[str, Any]] = []
    for delta in ["Sure:\n", "name: Ann\n", "Note: the rest follows.\n", "mode: y\n"]:
        got = p.feed(delta)
        if got is not None:
            seen.append(got.value)
    for value in seen:
        assert set(value) <= {"name", "mode"}, value  # no `Sure`, no default made up
        assert "mode" not in value or value["mode"] == "y"
    final = p.close().value
    assert final["name"] == "Ann" and final["mode"] == "y" and "Sure" not in final


def test_a_lone_surrogate_escape_fails_and_the_cli_writes_a_line() -> None:
    import json

    from click.testing import CliRunner

    from llmkit.cli._parse import parse as parse_cli

    for text in ('{"a": "\\ud800"}', "{'a': '\\udc00x'}", '["\\ud83d"]'):
        r = parse(text, None)
        assert not r.ok and "surrogate" in (r.error or ""), text
    pair = parse('{"a": "\\ud83d\\ude00"}', None)
    assert pair.ok and pair.value == {"a": "\U0001f600"}
    lines = json.dumps({"text": '{"a": "\\ud800"}'}) + "\n" + json.dumps({"text": "a: 1"}) + "\n"
    out = CliRunner().invoke(parse_cli, ["--jsonl"], input=lines)
    assert out.exit_code == 0, out.output
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [row["ok"] for row in rows] == [False, True]
