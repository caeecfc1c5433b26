"""Every rule with its own broken → fixed cases."""

from __future__ import annotations

import pytest

from llmkit.structured import get_rule, parse, rules

OBJ = {"type": "object"}
LEVELS = {
    "type": "object",
    "properties": {"levels": {"type": "array", "items": {"enum": ["low", "medium", "high"]}}},
}
TICKET = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "priority": {"enum": ["low", "medium", "high"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "count": {"type": "integer"},
        "price": {"type": "number"},
        "active": {"type": "boolean"},
        "order_id": {"type": ["string", "null"]},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        },
    },
    "additionalProperties": False,
}

CASES = [
    # (rule, text, schema, format, expected value)
    ("strip_think", "<think>hmm: no</think>\ntitle: ok", TICKET, "auto", {"title": "ok"}),
    ("strip_think", "<think>unclosed\n```yaml\ntitle: ok\n```", TICKET, "auto", {"title": "ok"}),
    ("extract_fence", "Here:\n```yaml\ntitle: ok\n```\nBye.", TICKET, "auto", {"title": "ok"}),
    ("extract_fence", '```json\n{"title": "ok"}', TICKET, "auto", {"title": "ok"}),
    ("extract_fence", "~~~\ntitle: ok\n~~~", TICKET, "auto", {"title": "ok"}),
    ("strip_bom", '\ufeff{"title": "ok"}', TICKET, "json", {"title": "ok"}),
    ("escaped_line_breaks", "title: ok\\ncount: 2", TICKET, "yaml", {"title": "ok", "count": 2}),
    ("space_after_dash", "tags:\n  - a\n  -b", TICKET, "yaml", {"tags": ["a", "b"]}),
    (
        "normalize_spaces",
        "title:\u00a0ok\ncount:\u00a03",
        TICKET,
        "yaml",
        {"title": "ok", "count": 3},
    ),
    (
        "strip_prose",
        "Sure! Here it is.\ntitle: ok\nHope this helps!",
        TICKET,
        "auto",
        {"title": "ok"},
    ),
    ("strip_prose", 'The answer is {"title": "ok"} as asked.', TICKET, "auto", {"title": "ok"}),
    ("strip_prose", "Here is the YAML you asked for:\ntitle: ok", TICKET, "yaml", {"title": "ok"}),
    (
        "tabs_to_spaces",
        "address:\n\tstreet: x\n\tcity: y",
        TICKET,
        "yaml",
        {"address": {"street": "x", "city": "y"}},
    ),
    ("space_after_colon", "title:ok\ncount:3", TICKET, "yaml", {"title": "ok", "count": 3}),
    (
        "space_after_colon",
        "title:Fix it: now\naddress:\n  street:1 Main St\n  city:Oslo",
        TICKET,
        "yaml",
        {"title": "Fix it: now", "address": {"street": "1 Main St", "city": "Oslo"}},
    ),
    (
        "space_after_colon",  # valid YAML, but one folded text: never what was meant
        "address:\n  street:1 Main St\n  city:Oslo",
        None,
        "yaml",
        {"address": {"street": "1 Main St", "city": "Oslo"}},
    ),
    ("yaml_smart_quotes", "order_id: \u201c0123\u201d", TICKET, "yaml", {"order_id": "0123"}),
    ("yaml_smart_quotes", "title: \u2018ok\u2019", None, "yaml", {"title": "ok"}),
    (
        "yaml_smart_quotes",
        "title: \u201cNote: read this\u201d\ncount: 1",
        TICKET,
        "yaml",
        {"title": "Note: read this", "count": 1},
    ),
    (
        "strip_prose",
        "Certainly. Based on the message, the ticket is:\n\ntitle: ok",
        TICKET,
        "yaml",
        {"title": "ok"},
    ),
    (
        "strip_prose",
        "title: ok\ncount: 2\n\nNote: the count is my best guess.",
        TICKET,
        "yaml",
        {"title": "ok", "count": 2},
    ),
    (
        "quote_colon_value",
        "title: Note: read this\ncount: 1",
        TICKET,
        "yaml",
        {"title": "Note: read this", "count": 1},
    ),
    ("quote_indicator_value", "title: *urgent* fix", TICKET, "yaml", {"title": "*urgent* fix"}),
    ("quote_indicator_value", "title: @home", TICKET, "yaml", {"title": "@home"}),
    ("quote_indicator_value", "title: `code`", TICKET, "yaml", {"title": "`code`"}),
    ("quote_indicator_value", "title: %20 off", TICKET, "yaml", {"title": "%20 off"}),
    (
        "quote_indicator_value",
        "title: [draft] not final",
        TICKET,
        "yaml",
        {"title": "[draft] not final"},
    ),
    (
        "block_indicator_misuse",
        "title: | see below\ncount: 2",
        TICKET,
        "yaml",
        {"title": "| see below", "count": 2},
    ),
    (
        "unescaped_quotes",
        'title: "He said "hi" to me"',
        TICKET,
        "yaml",
        {"title": 'He said "hi" to me'},
    ),
    ("unescaped_quotes", "title: 'don't stop'", TICKET, "yaml", {"title": "don't stop"}),
    (
        "align_list_items",
        "title: x\ntags:\n  - a\n - b",
        TICKET,
        "yaml",
        {"title": "x", "tags": ["a", "b"]},
    ),
    (
        "align_list_items",  # valid YAML reads `a - b`: a misplaced item, not text
        "title: x\ntags:\n  - a\n   - b\n  - c",
        TICKET,
        "yaml",
        {"title": "x", "tags": ["a", "b", "c"]},
    ),
    (
        "fix_indentation",
        "address:\n    street: x\n  city: y",
        TICKET,
        "yaml",
        {"address": {"street": "x", "city": "y"}},
    ),
    (
        "unescaped_quotes",
        'order_id: "A-1\ntitle: ok',
        TICKET,
        "yaml",
        {"title": "ok", "order_id": "A-1"},
    ),
    ("json_smart_quotes", "{“title”: “ok”}", TICKET, "json", {"title": "ok"}),
    ("json_single_quotes", "{'title': 'ok'}", TICKET, "json", {"title": "ok"}),
    ("json_comments", '{"title": "ok" // note\n}', TICKET, "json", {"title": "ok"}),
    ("json_comments", '{"title": /* c */ "ok"}', TICKET, "json", {"title": "ok"}),
    (
        "json_python_literals",
        '{"active": True, "order_id": None}',
        TICKET,
        "json",
        {"active": True, "order_id": None},
    ),
    ("json_undefined", '{"order_id": undefined}', TICKET, "json", {"order_id": None}),
    ("json_escaped_answer", '{\\"title\\": \\"ok\\"}', TICKET, "json", {"title": "ok"}),
    ("json_missing_opener", '"title": "ok"}', TICKET, "json", {"title": "ok"}),
    ("json_control_chars", '{"title": "a\nb"}', TICKET, "json", {"title": "a\nb"}),
    (
        "json_inner_quotes",
        '{"title": "He said "hi" ok", "count": 1}',
        TICKET,
        "json",
        {"title": 'He said "hi" ok', "count": 1},
    ),
    ("json_unquoted_keys", '{title: "ok", count: 2}', TICKET, "json", {"title": "ok", "count": 2}),
    (
        "json_unquoted_values",
        '{"title": open now, "count": 2}',
        TICKET,
        "json",
        {"title": "open now", "count": 2},
    ),
    (
        "json_missing_commas",
        '{"title": "ok"\n "count": 2}',
        TICKET,
        "json",
        {"title": "ok", "count": 2},
    ),
    ("json_trailing_commas", '{"tags": ["a", "b",],}', TICKET, "json", {"tags": ["a", "b"]}),
    (
        "json_close_truncated",
        '{"title": "ok", "tags": ["a", "b"]',
        TICKET,
        "json",
        {"title": "ok", "tags": ["a", "b"]},
    ),
    ("json_triple_quotes", '{"title": """ok"""}', TICKET, "json", {"title": "ok"}),
    ("json_tuples", "{'tags': ('a', 'b')}", TICKET, "json", {"tags": ["a", "b"]}),
    ("json_ellipsis", '{"tags": ["a", ...]}', TICKET, "json", {"tags": ["a"]}),
    ("json_digit_separators", '{"count": 1_200}', TICKET, "json", {"count": 1200}),
    ("json_number_format", '{"price": .5}', TICKET, "json", {"price": 0.5}),
    ("json_invalid_escapes", '{"title": "C:\\data"}', TICKET, "json", {"title": "C:\\data"}),
    (
        "json_missing_quote",
        '{"title": "ok, "count": 2}',
        TICKET,
        "json",
        {"title": "ok", "count": 2},
    ),
    ("json_key_equals", '{"count" = 2}', TICKET, "json", {"count": 2}),
    ("json_mismatched_closer", '{"tags": ["a"}', TICKET, "json", {"tags": ["a"]}),
    (
        "json_stray_closer",
        '{"title": "ok"}, "count": 2}',
        TICKET,
        "json",
        {"title": "ok", "count": 2},
    ),
    ("yaml_as_json", "title: ok\ncount: 2", TICKET, "json", {"title": "ok", "count": 2}),
    (
        "hash_value",
        "title: #general\ntags:\n  - #x",
        TICKET,
        "yaml",
        {"title": "#general", "tags": ["#x"]},
    ),
    (
        "strip_prose_line",
        "Output:\ntitle: ok\n\nNote: this is my best reading.",
        TICKET,
        "yaml",
        {"title": "ok"},
    ),
    ("scalar_in_sentence", "There are 3 of them.", {"type": "integer"}, "auto", 3),
    (
        "key_value_lines",
        "1. Title: ok\n2. Count: 2",
        TICKET,
        "auto",
        {"title": "ok", "count": 2},
    ),
    ("hash_in_value", "title: Fix bug #123", TICKET, "yaml", {"title": "Fix bug #123"}),
    ("trailing_comment", "priority: high  # urgent", TICKET, "yaml", {"priority": "high"}),
    ("literal_anchor", "title: &Co Inc", TICKET, "yaml", {"title": "&Co Inc"}),
    ("yaml_alias", "a: &x [1, 2]\nb: *x", None, "yaml", {"a": [1, 2], "b": [1, 2]}),
    ("duplicate_keys", "title: a\ntitle: a", TICKET, "yaml", {"title": "a"}),
    ("duplicate_keys", '{"a": {"x": 1}, "a": {"y": 2}}', None, "json", {"a": {"x": 1, "y": 2}}),
    ("ignore_tag", "title: !important", TICKET, "yaml", {"title": "!important"}),
    ("stray_document_marker", "title: ok\n---\n", TICKET, "yaml", {"title": "ok"}),
    (
        "multiple_documents",
        "title: 5\n---\ncount: 5",
        {"type": "object", "required": ["count"]},
        "yaml",
        {"count": 5},
    ),
    ("coerce_string", '{"title": 123}', TICKET, "json", {"title": "123"}),
    ("coerce_integer", 'count: "1,200"', TICKET, "yaml", {"count": 1200}),
    ("coerce_number", 'price: "9.50"', TICKET, "yaml", {"price": 9.5}),
    ("coerce_boolean", "active: yes", TICKET, "yaml", {"active": True}),
    ("coerce_enum", "priority: High", TICKET, "yaml", {"priority": "high"}),
    ("coerce_key", "Order ID: A1", TICKET, "yaml", {"order_id": "A1"}),
    ("coerce_key", '{"orderId": "A1"}', TICKET, "json", {"order_id": "A1"}),
    ("wrap_list", "tags: urgent", TICKET, "yaml", {"tags": ["urgent"]}),
    ("split_list", "levels: low, HIGH", LEVELS, "yaml", {"levels": ["low", "high"]}),
    (
        "parse_embedded",
        'address: \'{"city": "Oslo"}\'',
        TICKET,
        "yaml",
        {"address": {"city": "Oslo"}},
    ),
    ("unwrap_list", "address:\n  - city: Oslo", TICKET, "yaml", {"address": {"city": "Oslo"}}),
    (
        "renest_keys",
        "address:\nstreet: x\ncity: y",
        TICKET,
        "yaml",
        {"address": {"street": "x", "city": "y"}},
    ),
    (
        "fill_default",
        "{}",
        {
            "type": "object",
            "properties": {"lang": {"type": "string", "default": "en"}},
            "required": ["lang"],
        },
        "json",
        {"lang": "en"},
    ),
    (
        "coerce_null",
        '{"x": "None"}',
        {"type": "object", "properties": {"x": {"type": "null"}}},
        "json",
        {"x": None},
    ),
]


@pytest.mark.parametrize(
    ("rule", "text", "schema", "fmt", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_rule_fixes(rule: str, text: str, schema: object, fmt: str, expected: object) -> None:
    r = parse(text, schema, format=fmt)
    assert r.ok, r.error
    assert r.value == expected
    assert r.stage == "repaired"
    assert rule in r.repairs, r.repairs


def test_every_rule_has_a_case_and_docs() -> None:
    tested = {c[0] for c in CASES}
    for rule in rules():
        assert rule.hint, rule.name
        assert rule.doc, rule.name
        if rule.phase != "load" or rule.name not in ("json_nonfinite", "truncated"):
            assert rule.name in tested or rule.name in {
                "normalize_newlines",
                "block_scalar_indent",
                "quote_error_value",
                "drop_stray_line",
                "json_nonfinite",
                "truncated",
                "coerce_null",
            }, rule.name


def test_newlines_and_block_scalar_and_last_resort() -> None:
    r = parse("title: ok\r\ncount: 2\r\nx: a: b", None, format="yaml")
    assert r.ok and r.value["count"] == 2
    r = parse("title: |\nline one\nline two\ncount: 2", {"type": "object"}, format="yaml")
    assert r.ok and r.value["title"].startswith("line one") and r.value["count"] == 2
    r = parse("a: 1\nsee the notes above\nb: 2", {"type": "object"}, format="yaml")
    assert r.ok and r.value["a"] == 1


def test_truncated_finish_reason_marks_result() -> None:
    # cut at the token limit inside the document: its end is unknown, nothing made up
    r = parse("title: ok", {"type": "object"}, finish_reason="length")
    assert not r.ok and r.truncated and "truncated" in r.repairs
    r = parse('{"a": [1, 2', None, format="json", finish_reason="length")
    assert not r.ok and r.truncated
    # a complete document followed by cut prose is kept
    r = parse('{"a": [1, 2]}\nThe list holds', None, finish_reason="length")
    assert r.ok and r.truncated and r.value == {"a": [1, 2]} and r.stage == "repaired"
    # no finish_reason: the top-level closer missing after whole members is closed ...
    r = parse('{"a": [1, 2]', None, format="json")
    assert r.value == {"a": [1, 2]} and r.truncated
    # ... but a list (or any value) that runs to the end is never completed (issue 14)
    r = parse('{"a": [1, 2', None, format="json")
    assert not r.ok
    # cut at the limit: the members written whole, the one the cut fell in dropped
    r = parse("title: ok\ncount: 3\ntags:\n- a", {"type": "object"}, finish_reason="length")
    assert r.ok and r.truncated and r.value == {"title": "ok", "count": 3}
    # ... but a string cut at the end is never completed
    r = parse('{"a": "te', None, format="json")
    assert not r.ok


def test_json_nonfinite() -> None:
    r = parse('{"x": NaN}', None, format="json")
    assert "json_nonfinite" in r.repairs and r.to_dict()["value"] == {"x": None}


def test_get_rule() -> None:
    rule = get_rule("quote_colon_value")
    assert rule is not None and "→" in rule.doc
