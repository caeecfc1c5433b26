"""The schema decides, for structure too (issue 14 §1).

Where the schema asks for a string and YAML would see structure or syntax (a flow
collection, an anchor, an alias, a tag, a comment, a reserved indicator), the value is
the text the model wrote; where the schema asks for the structure, YAML reads it and a
construct that reads neither way fails; without a schema YAML's reading stands.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmkit.structured import parse

STR = {"type": "string"}
TEXT_LIST = {"type": "array", "items": STR}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "note": STR,
        "tags": TEXT_LIST,
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": STR, "qty": {"type": "integer"}},
                "required": ["name"],
            },
        },
        "count": {"type": "integer"},
    },
}

AWKWARD = [
    "{braced}",
    "[bracketed]",
    "{en",
    "[en",
    "&co",
    "&Co Inc",
    "*starred",
    "*****",
    "!important",
    "%done",
    "@home",
    "`cmd`",
    "#ff0000",
    "| see below",
    "> 90%",
    "Step 1: open it",
    "{a: 1}",
    "[a, b]",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_string_node_keeps_the_written_text(value: str) -> None:
    for text, path in [
        (f"note: {value}\ncount: 2", ("note",)),
        (f"tags:\n  - ok\n  - {value}\n  - last", ("tags", 1)),
        (f"tags:\n- {value}\ncount: 2", ("tags", 0)),
        (f"items:\n  - name: {value}\n    qty: 3", ("items", 0, "name")),
        (f"items:\n  - qty: 3\n    name: {value}", ("items", 0, "name")),
    ]:
        r = parse(text, SCHEMA)
        assert r.ok, (text, r.error)
        got: Any = r.value
        for step in path:
            got = got[step]
        assert got == value, (text, r.value, r.repairs)


@pytest.mark.parametrize("value", AWKWARD)
def test_whole_answer_under_a_string_schema_is_its_text(value: str) -> None:
    r = parse(value, STR)
    if r.ok:
        assert r.value == value, (value, r.value, r.repairs)
    if value[0] in "{[":
        assert r.ok and r.value == value


def test_json_looking_answer_under_a_string_schema_stays_text() -> None:
    r = parse('{"a": 1}', STR)
    assert r.ok and r.value == '{"a": 1}'


def test_structure_asked_is_read_as_yaml() -> None:
    r = parse("tags: [a, b]\nnote: x", SCHEMA)
    assert r.ok and r.value == {"tags": ["a", "b"], "note": "x"} and r.stage == "clean"
    r = parse("items: [{name: a, qty: 2}]", SCHEMA)
    assert r.ok and r.value == {"items": [{"name": "a", "qty": 2}]}


@pytest.mark.parametrize(
    "text", ["tags: [wip", "tags: [a, b", "items: [{name: a", "note: x\ntags: {a"]
)
def test_unclosed_structure_where_structure_is_asked_fails(text: str) -> None:
    r = parse(text, SCHEMA)
    assert not r.ok, (text, r.value, r.repairs)


def test_real_anchor_and_alias_stay_yaml() -> None:
    r = parse("note: &x hello\ntags:\n  - *x", SCHEMA)
    assert r.ok and r.value == {"note": "hello", "tags": ["hello"]}


def test_without_a_schema_yaml_reading_stands() -> None:
    r = parse("tags:\n  - {braced: 1}\n", None)
    assert r.ok and r.value == {"tags": [{"braced": 1}]}


def test_a_number_node_is_never_made_text() -> None:
    r = parse("count: {3}", SCHEMA)
    assert not r.ok or r.value == {"count": 3}
    r = parse("count: #3", SCHEMA)
    assert not r.ok or r.value.get("count") in (None, 3)


_INDICATOR = st.sampled_from(list("{[&*!%@`#|>"))
_BODY = st.text(alphabet="abc XYZ-_.,{}[]&*!:/", max_size=12)


@given(_INDICATOR, _BODY)
def test_string_value_ok_means_the_written_text(lead: str, body: str) -> None:
    """Invariant: at a string node, a value starting with an indicator is either the text
    written there (without trailing blanks) or the answer fails; never a made-up value."""
    value = (lead + body).rstrip()
    for text in (f"note: {value}\ncount: 1", f"tags:\n  - {value}\n  - z", f"tags:\n- {value}"):
        r = parse(text, SCHEMA)
        if not r.ok:
            continue
        got = r.value["note"] if "note" in r.value else r.value["tags"][0]
        assert got == value, (text, r.value, r.repairs)


@pytest.mark.parametrize(
    ("key", "renamed"),
    [
        ("Title", True),
        ("TITLE", True),
        ('"**title**"', True),
        ("'`title`'", True),
        ("tit`le", False),
        ('ti"tle', False),
        ("ti*tle", False),
    ],
)
def test_keys_are_renamed_only_by_case_separators_and_wrapping(key: str, renamed: bool) -> None:
    schema = {"type": "object", "properties": {"title": STR}, "required": ["title"]}
    r = parse(f"{key}: x", schema)
    if renamed:
        assert r.ok and r.value == {"title": "x"} and "coerce_key" in r.repairs
    else:
        assert not r.ok, (key, r.value)


def test_braced_item_after_an_indentation_repair_is_its_text() -> None:
    schema = {"type": "object", "properties": {"items": SCHEMA["properties"]["items"]}}
    for text in (
        "items:\n  - name: a\n    qty: 2\n   - name: b\n     qty: 4\n     tags: x\n",
        "items:\n\t- name: {braced}\n\t\tqty: 2",
    ):
        r = parse(text, schema)
        assert not r.ok or "braced: " not in repr(r.value), (text, r.value)
    r = parse("tags:\n  - ok\n   - {braced}\n  - z", SCHEMA)
    assert r.ok and r.value == {"tags": ["ok", "{braced}", "z"]}, r.value


def test_prose_after_a_document_end_marker_is_dropped() -> None:
    text = "note: x\ncount: 2\n...\nI hope this helps!\n\nNote: it is my best guess."
    r = parse(text, SCHEMA)
    assert r.ok and r.value == {"note": "x", "count": 2}, (r.value, r.error)
