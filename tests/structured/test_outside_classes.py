"""Error classes learned from outside (peer trackers and peer repair suites), as invariants.

Each property states what must hold for every answer of its class, not for one example:
``ok`` implies the value equals what the model wrote (failing is always allowed), and no
string or number of an ``ok`` value appears nowhere in the answer.

- a cut JSON answer (mem0#4414, issue 14's rule): a number at the cut may be the start of
  a longer one, so no value of an ``ok`` answer differs from the one written;
- a doubled quote at a string's edge (json_repair's `""value"` tests): typo or text;
- lines YAML folds into one text (`a\\nb` read as ``"a b"``): never a list item, and a
  whole answer under a text schema is the text as written;
- JavaScript's ``undefined`` (typia's LlmJson docs): null, and recorded;
- JSON encoded twice, as a string (smolagents#1003, kimi-cli#2513): read by the JSON
  engine, never by YAML's own typing (``NO`` stays ``"NO"``).
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import llmkit

KEYS = st.text(string.ascii_lowercase, min_size=1, max_size=6)
WORDS = st.text(string.ascii_letters, min_size=1, max_size=8)
SCALARS = st.one_of(WORDS, st.integers(-10_000, 10_000), st.booleans(), st.none())
FLAT = st.dictionaries(KEYS, SCALARS, min_size=1, max_size=5)
OBJECT = {"type": "object"}
TEXTS = {"type": "array", "items": {"type": "string"}}


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(FLAT, st.data())
def test_a_cut_json_answer_never_changes_a_value(doc: dict[str, Any], data: Any) -> None:
    """Every prefix of a JSON answer: what comes back ``ok`` holds only values written
    whole (`"age": 3` cut from `31` is never 3)."""
    text = json.dumps(doc)
    cut = data.draw(st.integers(1, len(text) - 1))
    limit = data.draw(st.sampled_from([None, "length"]))
    r = llmkit.parse(text[:cut], OBJECT, format="json", finish_reason=limit)
    if r.ok:
        assert isinstance(r.value, dict)
        for k, v in r.value.items():
            assert k in doc and _same(v, doc[k]), (text[:cut], r.value)


@settings(max_examples=60, deadline=None)
@given(FLAT, KEYS, st.integers(10, 99_999))
def test_a_number_at_the_cut_fails(doc: dict[str, Any], key: str, n: int) -> None:
    assume(key not in doc)
    text = json.dumps({**doc, key: n})[:-1]  # the closer left off after a number
    assert not llmkit.parse(text, OBJECT, format="json").ok, text


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(KEYS, WORDS, min_size=1, max_size=4), st.data())
def test_a_doubled_quote_is_never_kept_as_text(doc: dict[str, str], data: Any) -> None:
    key = data.draw(st.sampled_from(sorted(doc)))
    written = json.dumps(doc[key])
    doubled = data.draw(st.sampled_from(['"' + written, written + '"']))
    text = json.dumps(doc).replace(f'"{key}": {written}', f'"{key}": {doubled}', 1)
    r = llmkit.parse(text, OBJECT, format="json")
    assert not r.ok or r.value == doc, (text, r.value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(string.ascii_lowercase + " ", min_size=1, max_size=12), min_size=2))
def test_lines_are_never_folded_into_a_made_up_text(lines: list[str]) -> None:
    lines = [ln.strip() for ln in lines]
    assume(all(lines))
    text = "\n".join(lines)
    as_list = llmkit.parse(text, TEXTS, format="yaml")
    assert not as_list.ok or all(item in text for item in as_list.value), as_list.value
    as_text = llmkit.parse(text, {"type": "string"}, format="yaml")
    assert as_text.ok and as_text.value == text, as_text.value


@settings(max_examples=60, deadline=None)
@given(st.lists(WORDS, min_size=2, max_size=4), st.sampled_from(["|", "|-", ">", '"']))
def test_a_text_of_several_lines_is_never_one_list_item(lines: list[str], style: str) -> None:
    """`tags: |` and a block of lines where a list was asked: items or one text?"""
    if style == '"':
        value = json.dumps("\n".join(lines))
    else:
        value = style + "\n" + "\n".join("  " + ln for ln in lines)
    r = llmkit.parse(f"tags: {value}\n", {"type": "object", "properties": {"tags": TEXTS}})
    assert not r.ok or all("\n" not in t and t in lines for t in r.value["tags"]), r.value


@settings(max_examples=60, deadline=None)
@given(FLAT)
def test_undefined_is_null_and_recorded(doc: dict[str, Any]) -> None:
    assume(None in doc.values())
    text = json.dumps(doc).replace(": null", ": undefined")
    r = llmkit.parse(text, OBJECT, format="json")
    assert r.ok and r.value == doc, (text, r.value)
    assert r.stage == "repaired" and "json_undefined" in r.repairs


YAML11 = st.sampled_from(["NO", "yes", "off", "On", "null", "~", "1.10", "0042", "2024-03-05"])


@settings(max_examples=60, deadline=None)
@given(st.one_of(YAML11, WORDS), st.booleans())
def test_json_in_a_string_is_read_as_json(word: str, quoted: bool) -> None:
    """`"arguments": "{lang: NO}"`: the text the model wrote, typed by the schema."""
    inner = json.dumps({"lang": word}) if quoted else f"{{lang: {word}}}"
    schema = {
        "type": "object",
        "properties": {"arguments": {"type": "object", "properties": {"lang": {"type": "string"}}}},
    }
    r = llmkit.parse(json.dumps({"arguments": inner}), schema, format="json")
    assert not r.ok or r.value == {"arguments": {"lang": word}}, (inner, r.value)
    assume(word not in ("null", "~"))
    assert r.ok, (inner, r.error)


@settings(max_examples=60, deadline=None)
@given(FLAT)
def test_json_encoded_twice_keeps_every_value(doc: dict[str, Any]) -> None:
    text = json.dumps(json.dumps(doc))
    r = llmkit.parse(text, OBJECT, format="json")
    assert r.ok and r.value == doc and all(_same(r.value[k], doc[k]) for k in doc)


CLOSED = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["title", "count"],
    "additionalProperties": False,
}
SENTENCE = st.lists(WORDS, min_size=3, max_size=6).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(KEYS, SENTENCE, st.booleans())
def test_a_key_written_among_the_others_is_never_dropped(
    key: str, sentence: str, blank: bool
) -> None:
    """`notes: flaky on iOS` right under the other keys is data the schema refuses (fail);
    after a blank line, at the very end, it may be a remark (dropped, recorded)."""
    assume(key not in CLOSED["properties"])
    text = f"title: Login fails\ncount: 3\n{'' if not blank else chr(10)}{key}: {sentence}\n"
    r = llmkit.parse(text, CLOSED, format="yaml")
    if not blank:
        assert not r.ok, r.value
    else:
        assert not r.ok or (r.value == {"title": "Login fails", "count": 3} and r.repairs)


NULLABLE = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
}


@settings(max_examples=80, deadline=None)
@given(
    FLAT,
    st.sampled_from(["yaml", "auto", "json"]),
    st.sampled_from(["None", "undefined"]),
    st.sampled_from(["", "\ufeff\n\n", "```json\n"]),
)
def test_a_python_or_js_null_means_null_in_any_format(
    doc: dict[str, Any], fmt: str, word: str, lead: str
) -> None:
    """`{"note": None}` where YAML was asked: YAML would read the text "None"; a JSON-shaped
    answer means JSON's neighbours' null (issue 14: never "None")."""
    assume(None in doc.values())
    text = lead + json.dumps(doc).replace(": null", f": {word}")
    r = llmkit.parse(text, NULLABLE, format=fmt)
    assert r.ok and r.value == doc, (fmt, text, r.value)


@settings(max_examples=80, deadline=None)
@given(FLAT, st.booleans())
def test_an_escaped_answer_or_a_missing_opener_keeps_every_value(
    doc: dict[str, Any], escaped: bool
) -> None:
    """`{\\"a\\": 1}` copied from a log; `"a": 1}` with the `{` left off."""
    text = json.dumps(json.dumps(doc))[1:-1] if escaped else json.dumps(doc)[1:]
    r = llmkit.parse(text, OBJECT, format="json")
    assert r.ok and r.value == doc and all(_same(r.value[k], doc[k]) for k in doc), r.value
    assert ("json_escaped_answer" if escaped else "json_missing_opener") in r.repairs


@settings(max_examples=60, deadline=None)
@given(SENTENCE, SENTENCE)
def test_a_text_continued_at_the_margin_is_never_cut_short(first: str, rest: str) -> None:
    """`summary: First line` then `second line` unindented: the model went on with the
    value. Dropping the line as stray prose would lose what it wrote."""
    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string"}, "count": {"type": "integer"}},
        "required": ["summary", "count"],
    }
    r = llmkit.parse(f"summary: {first}\n{rest}\ncount: 3\n", schema, format="yaml")
    assert not r.ok or rest in r.value["summary"], r.value


ITEM = st.dictionaries(KEYS, SCALARS, min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(st.lists(ITEM, min_size=2, max_size=4), st.data(), st.booleans())
def test_a_stray_closer_never_drops_the_items_after_it(
    items: list[dict[str, Any]], data: Any, wrapped: bool
) -> None:
    """`[{"a": 1}}, {"a": 2}]` (json_repair's tests): one `}` too many after an item.
    Reading it as the list's end dropped every later item, and the answer came back ok."""
    at = data.draw(st.integers(0, len(items) - 2))
    parts = [json.dumps(x) for x in items]
    parts[at] += data.draw(st.sampled_from(["}", "]"]))
    text = "[" + ", ".join(parts) + "]"
    truth: Any = items
    if wrapped:
        text, truth = '{"items": ' + text + "}", {"items": items}
    r = llmkit.parse(text, None, format="json")
    assert not r.ok or r.value == truth, (text, r.value)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["#", "{", "&", "*", "@", "%", "!", "`"]),
    WORDS,
    st.sampled_from(["yaml", "json", "auto"]),
)
def test_yaml_where_json_was_asked_is_typed_by_the_schema(sigil: str, word: str, fmt: str) -> None:
    """JSON asked, YAML answered (issue 14): `note: #ff0000` under a nullable text is the
    text in every format, never a comment read as null."""
    value = sigil + word + ("}" if sigil == "{" else "`" if sigil == "`" else "")
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "note": {"type": ["string", "null"]}},
    }
    r = llmkit.parse(f"title: x\nnote: {value}\n", schema, format=fmt)
    assert not r.ok or r.value == {"title": "x", "note": value}, (fmt, value, r.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(KEYS, WORDS), min_size=1, max_size=4, unique_by=lambda kv: kv[0]))
def test_a_yaml_answer_cut_inside_quotes_is_never_completed(pairs: list[tuple[str, str]]) -> None:
    """`note: "abc` ending the answer: cut inside the quotes, as a JSON answer cut inside
    a string is (issue 14: no value is ever completed). A forgotten quote on any other
    line is closed by the line end."""
    body = "\n".join(f"{k}: {v}" for k, v in pairs[:-1])
    key, word = pairs[-1]
    cut = f'{body}\n{key}: "{word}'.lstrip("\n")
    r = llmkit.parse(cut, {"type": "object"}, format="yaml")
    assert not r.ok or r.value.get(key) not in (word, '"' + word), (cut, r.value)
    assume(body)
    moved = f'{key}: "{word}\n{body}'
    r = llmkit.parse(moved, {"type": "object"}, format="yaml")
    assert r.ok and r.value[key] == word, (moved, r.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS, min_size=2, max_size=4), st.data())
def test_an_item_that_lost_its_space_is_never_dropped(items: list[str], data: Any) -> None:
    at = data.draw(st.integers(0, len(items) - 1))
    lines = [f'- "{w}"' for w in items]
    lines[at] = f'-"{items[at]}"'
    r = llmkit.parse("\n".join(lines), TEXTS, format="yaml")
    assert not r.ok or r.value == items, r.value


@settings(max_examples=60, deadline=None)
@given(st.lists(WORDS, min_size=2, max_size=5), st.data())
def test_an_item_glued_to_its_dash_among_items_is_an_item(items: list[str], data: Any) -> None:
    """`- a\\n-b\\n- c`: siblings show `-b` is an item; without them `-b` stays the text."""
    at = data.draw(st.integers(0, len(items) - 1))
    lines = [f"  - {w}" for w in items]
    lines[at] = f"  -{items[at]}"
    text = "tags:\n" + "\n".join(lines)
    schema = {"type": "object", "properties": {"tags": TEXTS}}
    r = llmkit.parse(text, schema, format="yaml")
    assert r.ok and r.value == {"tags": items}, (text, r.value)
    lone = llmkit.parse(f"tags:\n  -{items[0]}", schema, format="yaml")
    assert not lone.ok, lone.value  # `-b` alone: an item or a text? never wrapped


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, WORDS, min_size=2, max_size=4), st.booleans())
def test_an_answer_with_escaped_line_breaks_reads_as_written(
    doc: dict[str, str], fenced: bool
) -> None:
    """`name: Ann\\nage: 3` on one line (an answer copied from a log): each `\\n` starts
    a key, so the breaks were escaped; the value is the one written."""
    body = "\n".join(f'{k}: "{v}"' for k, v in doc.items())
    text = (f"```yaml\n{body}\n```" if fenced else body).replace("\n", "\\n")
    texts = {"type": "object", "additionalProperties": {"type": "string"}}
    r = llmkit.parse(text, texts, format="yaml")
    assert r.ok and r.value == doc, (text, r.value)
    assert "escaped_line_breaks" in r.repairs
    sentence = f"Split the {next(iter(doc))} field on \\n- markers."
    said = llmkit.parse(sentence, {"type": "string"})
    assert said.ok and said.value == sentence, said.value  # one `\n- ` in a sentence


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a, b", "x", "Note: y", "%done"]), min_size=1), st.booleans())
def test_a_json_list_with_smart_quotes_or_escaped_where_yaml_was_asked(
    items: list[str], escaped: bool
) -> None:
    """`[“a, b”]` (YAML splits at the comma: “a and b”) or `[\\n  \\"a\\"]` (escaped):
    the JSON reading, where YAML was asked."""
    text = json.dumps(items, indent=2, ensure_ascii=False)
    text = json.dumps(text)[1:-1] if escaped else re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)
    r = llmkit.parse(text, TEXTS, format="yaml")
    assert r.ok and r.value == items, (text, r.value)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(KEYS, st.sampled_from(["~", "null", "yes", "1.10", "x y"]), min_size=1))
def test_a_yaml_flow_mapping_stays_yaml(doc: dict[str, str]) -> None:
    """`{note: ~}` where YAML was asked is YAML's flow syntax: `~` is null, never the text
    the JSON engine would read (only Python's and JavaScript's literals switch reading)."""
    text = "{" + ", ".join(f"{k}: {v}" for k, v in doc.items()) + "}"
    r = llmkit.parse(text, None, format="yaml")
    want = {k: None if v in ("~", "null") else v for k, v in doc.items()}
    want = {k: 1.1 if v == "1.10" else v for k, v in want.items()}
    assert r.ok and r.value == want, (text, r.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS, min_size=2, max_size=4, unique=True))
def test_comma_separated_free_text_is_never_split_by_guess(words: list[str]) -> None:
    """`labels: bug, crash` (the project corpus's quillmark#645 case): one label with a
    comma or two labels? Free text fails; enum values can only be several items."""
    text = "labels: " + ", ".join(words)
    free = {"type": "object", "properties": {"labels": TEXTS}}
    assert not llmkit.parse(text, free, format="yaml").ok
    enum = {"type": "object", "properties": {"labels": {"type": "array", "items": {"enum": words}}}}
    r = llmkit.parse(text, enum, format="yaml")
    assert r.ok and r.value == {"labels": words}, r.value


@settings(max_examples=60, deadline=None)
@given(
    st.lists(WORDS, min_size=1, max_size=4),
    st.sampled_from(["Here it is -> ", "Result: ", "Sure, the list is "]),
    st.sampled_from(["", "\n---\nThanks", "<think>\n[the list]\n</think>\n", " // all of them"]),
    st.sampled_from(["json", "yaml", "auto"]),
)
def test_a_list_after_prose_or_before_a_rule_keeps_every_item(
    items: list[str], lead: str, extra: str, fmt: str
) -> None:
    """`Here it is -> [` with the items below (each item was read as a separate line of
    YAML and all but one dropped); a `---` rule then a remark (read as a second document
    and taken as the answer); a reasoning block before both."""
    body = lead + json.dumps(items, indent=2 if len(items) % 2 else None)
    text = extra + body if extra.startswith("<think>") else body + extra
    r = llmkit.parse(text, TEXTS, format=fmt)
    assert not r.ok or r.value == items, (text, r.value)


@settings(max_examples=40, deadline=None)
@given(WORDS, WORDS, st.sampled_from(['"', "'"]), st.sampled_from(["yaml", "auto", "json"]))
def test_a_line_break_inside_a_json_string_is_kept(a: str, b: str, q: str, fmt: str) -> None:
    """`{"body": "line one<newline>line two"}` (BAML's jsonish tests keep the break):
    YAML would fold it to a space, a text nobody wrote."""
    text = "{" + f"{q}body{q}: {q}{a}\n{b}{q}" + "}"
    r = llmkit.parse(text, {"type": "object"}, format=fmt)
    assert r.ok and r.value == {"body": f"{a}\n{b}"}, (fmt, text, r.value)
