"""The JSON repair engine: each class it reads, and the invariants it keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llmkit.structured import parse
from llmkit.structured._json_repair import repair_json

# (broken, the one value it reads as, the repairs named)
CLASSES: list[tuple[str, Any, list[str]]] = [
    ('{"q": "He said "hi" to me"}', {"q": 'He said "hi" to me'}, ["json_inner_quotes"]),
    ('{"a": "x, "b": 1}', {"a": "x", "b": 1}, ["json_missing_quote"]),
    ('{\n "a": "x,\n "b": 1\n}', {"a": "x", "b": 1}, ["json_missing_quote"]),
    ('{"m": "no quote here\n}', {"m": "no quote here"}, ["json_missing_quote"]),
    ('{"a": 1, // one\n "b": /* two */ 2 # three\n}', {"a": 1, "b": 2}, ["json_comments"]),
    ("{a: 1, b_c: 2}", {"a": 1, "b_c": 2}, ["json_unquoted_keys"]),
    ('{"s": open now, "n": 2}', {"s": "open now", "n": 2}, ["json_unquoted_values"]),
    ('{"url": http://x.io/a}', {"url": "http://x.io/a"}, ["json_unquoted_values"]),
    ('{"a": [1, 2}', {"a": [1, 2]}, ["json_mismatched_closer"]),
    ('[{"a": 1]', [{"a": 1}], ["json_mismatched_closer"]),
    ('{"a": 1}, "b": 2}', {"a": 1, "b": 2}, ["json_stray_closer"]),
    ('{"a": 1}\n"b": 2}', {"a": 1, "b": 2}, ["json_stray_closer"]),
    ('{"a": 1}}', {"a": 1}, ["json_stray_closer"]),
    ('{"a": (1, "x")}', {"a": [1, "x"]}, ["json_tuples"]),
    ('{"a": [1, ...], "b": ...}', {"a": [1]}, ["json_ellipsis"]),
    ('{"n": 1_000_000}', {"n": 1000000}, ["json_digit_separators"]),
    ('{"t": """line "one"\nline two"""}', {"t": 'line "one"\nline two'}, ["json_triple_quotes"]),
    ('{"t": "a\tb\nc"}', {"t": "a\tb\nc"}, ["json_control_chars"]),
    ("{'a': 'it''s'}", None, []),  # not a reading anyone can trust: see the failure test
    ("{'ok': True, 'none': None}", {"ok": True, "none": None}, ["json_single_quotes"]),
    ("{“a”: “b”}", {"a": "b"}, ["json_smart_quotes"]),
    ('{"a": 1 "b": 2}', {"a": 1, "b": 2}, ["json_missing_commas"]),
    ('{"a": [1, 2,],}', {"a": [1, 2]}, ["json_trailing_commas"]),
    ('{"p": "C:\\data"}', {"p": "C:\\data"}, ["json_invalid_escapes"]),
    ('{"x": .5, "y": +2, "z": 5.}', {"x": 0.5, "y": 2, "z": 5.0}, ["json_number_format"]),
    ('{"n": 0x1F, "m": -0xff}', {"n": 31, "m": -255}, ["json_number_format"]),
    ('{"a": "print("hi")"}', {"a": 'print("hi")'}, ["json_inner_quotes"]),
]


@pytest.mark.parametrize(("text", "value", "names"), [c for c in CLASSES if c[1] is not None])
def test_engine_reads_each_class(text: str, value: Any, names: list[str]) -> None:
    read = repair_json(text)
    assert read is not None, text
    assert [json.loads(v) for v in read.values] == [value]
    for name in names:
        assert name in read.repairs, (name, read.repairs)
    r = parse(text, None, format="json")
    assert r.ok and r.value == value and r.stage == "repaired"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": }',  # a value missing: never made up
        '{"a" "b"}',  # a key with no colon
        '{"a": 1, "b": "cut her',  # a string cut at the end
        '{"a": [1, 2,',  # cut after a comma: the list may go on
        '{"a": 1, "b',  # a half-written key
        '{"a": """open',
    ],
)
def test_engine_refuses_to_guess(text: str) -> None:
    read = repair_json(text)
    assert read is None or read.cut_inside, (text, read)
    assert not parse(text, None, format="json").ok


def test_several_values_are_collected_for_an_array_schema_and_chosen_for_an_object() -> None:
    item = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    r = parse('{"n": 1}\n{"n": 2}', {"type": "array", "items": item})
    assert r.value == [{"n": 1}, {"n": 2}]
    r = parse('{"error": "x"}\n{"n": 2}', item)
    assert r.value == {"n": 2}
    r = parse('{"n": 1}\n{"n": 2}', item)  # two that fit: no guess
    assert not r.ok and "several" in (r.error or "")
    r = parse('"yes"\n"no"', {"enum": ["yes", "no"]})
    assert not r.ok


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.booleans())
@example({"\u201d": None}, False)  # a smart quote inside a plain-quoted key is text
def test_valid_json_reads_unchanged_with_no_repair(doc: Any, ascii_only: bool) -> None:
    """The one engine never changes a valid document: same value, nothing named."""
    text = json.dumps(doc, ensure_ascii=ascii_only)
    read = repair_json(text)
    if isinstance(doc, (dict, list, str)):
        assert read is not None
        assert read.repairs == [] and not read.truncated
        assert [json.loads(v) for v in read.values] == [doc]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), JSON, min_size=1, max_size=4))
def test_valid_json_under_a_schema_it_validates_is_clean_and_unchanged(doc: Any) -> None:
    props = {k: _schema_of(v) for k, v in doc.items()}
    schema = {"type": "object", "properties": props, "required": sorted(doc)}
    r = parse(json.dumps(doc, ensure_ascii=False), schema, format="json")
    assert r.stage == "clean" and r.repairs == ()
    assert r.value == doc
    assert list(r.value) == list(doc)  # no key renamed or reordered


def _schema_of(v: Any) -> dict[str, Any]:
    if v is None:
        return {"type": "null"}
    if isinstance(v, bool):
        return {"type": "boolean"}
    if isinstance(v, int):
        return {"type": "integer"}
    if isinstance(v, float):
        return {"type": "number"}
    if isinstance(v, str):
        return {"type": "string"}
    if isinstance(v, list):
        return {"type": "array"}
    return {"type": "object"}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), JSON, min_size=1, max_size=4), st.data())
def test_an_answer_cut_at_the_limit_is_never_completed(doc: dict[str, Any], data: Any) -> None:
    """A cut answer comes back only as members written whole before the cut (issue 14):
    each one the original's, none completed."""
    text = json.dumps(doc)
    cut = data.draw(st.integers(1, len(text) - 1))
    r = parse(text[:cut], None, format="json", finish_reason="length")
    if r.ok:
        assert r.truncated and r.stage == "repaired", (text[:cut], r.value)
        assert isinstance(r.value, dict) and len(r.value) < len(doc) + 1
        for key, value in r.value.items():
            assert key in doc and value == doc[key], (text[:cut], r.value)
        assert text[:cut].rstrip()[-1] in '"}]el', (text[:cut], r.value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), JSON, min_size=1, max_size=4))
def test_a_required_field_is_never_invented(doc: dict[str, Any]) -> None:
    """However the answer is broken, a required field it lacks is never made up."""
    schema = {"type": "object", "required": ["zz_not_written"]}
    for text in (
        json.dumps(doc),
        repr(doc),
        json.dumps(doc)[:-1] + ",}",
        "Sure, here it is:\n" + json.dumps(doc) + "\nHope it helps.",
        json.dumps(doc)[:-1],
    ):
        assert not parse(text, schema).ok, text


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True), JSON, max_size=4))
def test_python_literals_are_values_never_strings(doc: dict[str, Any]) -> None:
    """`repr()` of a dict (None/True/False, tuples) reads as the dict, not as text."""
    with_tuples = {k: tuple(v) if isinstance(v, list) else v for k, v in doc.items()}
    r = parse(repr(with_tuples), None, format="auto")
    assert r.ok and r.value == doc
