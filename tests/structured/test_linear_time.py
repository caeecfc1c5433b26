"""Adversarial inputs finish in time linear in their size (no catastrophic backtracking).

Each case parses a ~200 KB input of one adversarial shape (unterminated quotes full of
escaped quotes, long runs of backslashes, brackets, colons, blanks, `#`, `<think`, ...).
Linear code takes a fraction of a second; the quadratic code these cases caught took
39 s at 60 KB, so minutes here. The test body measures nothing: the per-test timeout is
only a guard against such a hang (a margin of ~100x, so a slow or noisy machine cannot
fail it). Timing ratios live in ``benchmarks/structured.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmkit.structured import _extract, _json_repair, _load, _repair_yaml, _stream, _taxonomy, parse
from llmkit.structured._rules import RepairContext

SIZE = 200_000
GUARD_S = 30  # linear: well under 1 s; the quadratic code: minutes

OBJ = {"type": "object"}
INT_SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}}
TEXTS = {"type": "array", "items": {"type": "string"}}


def _rep(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


# name → (build(size) → text, format, schema)
PARSE_SHAPES: dict[str, tuple[Callable[[int], str], str, Any]] = {
    # unterminated strings full of escaped quotes (the reported 39 s / 60 KB case)
    "json_dq_escaped": (lambda n: '{"a": "' + _rep('x\\"', n), "auto", None),
    "json_dq_escaped_schema": (lambda n: '{"a": "' + _rep('x\\"', n), "json", OBJ),
    "json_dq_escaped_backslash": (lambda n: '{"a": "' + _rep('x\\"', n) + "\\", "auto", None),
    "json_dq_inner_quotes": (lambda n: '{"a": "' + _rep('x"', n) + "x", "auto", None),
    "json_sq_escaped": (lambda n: "{'a': '" + _rep("x\\'", n), "auto", None),
    "json_sq_escaped_backslash": (lambda n: "{'a': '" + _rep("x\\' ", n) + "\\", "json", None),
    "json_smart_escaped": (lambda n: '{"a": “' + _rep("x\\“", n), "auto", None),
    "json_lsmart_backslash": (lambda n: '{"a": ‘' + _rep("x\\’ ‘", n) + "\\", "json", None),
    "json_mixed_quotes": (lambda n: '{"a": "' + _rep("'x\\", n), "auto", None),
    "json_open_string_after_fix": (lambda n: '{\'b\': 1, "a": "' + _rep('x\\"', n), "auto", None),
    "json_block_comments": (lambda n: '{"a": 1 ' + _rep("/*", n), "auto", None),
    "json_long_word": (lambda n: "{" + _rep("a", n), "auto", None),
    "json_dashed_word": (lambda n: "{" + _rep("a-", n), "auto", None),
    "json_digits": (lambda n: '{"a": [' + _rep("1,", n) + "x", "auto", None),
    "json_commas": (lambda n: "[1" + _rep(",", n), "auto", None),
    "json_blanks_after_comma": (lambda n: "[1," + _rep(" ", n) + "x", "auto", None),
    "deep_brackets_open_string": (
        lambda n: "[" * 300 + '"' + _rep('x\\"', n) + "\\",
        "auto",
        None,
    ),
    "prose_then_open_string": (lambda n: 'Sure: {"a": "' + _rep('x\\"', n) + "\\", "yaml", OBJ),
    # runs of one character
    "braces": (lambda n: _rep("{", n), "auto", None),
    "brackets": (lambda n: _rep("[", n), "json", None),
    "colons": (lambda n: _rep(":", n), "auto", None),
    "colon_blank": (lambda n: "a: " + _rep(": ", n), "yaml", OBJ),
    "backslashes": (lambda n: _rep("\\", n), "auto", None),
    "backslashes_in_quote": (lambda n: 'a: "' + _rep("\\", n), "yaml", None),
    "hashes": (lambda n: _rep("#", n), "auto", None),
    "blank_hashes": (lambda n: "a: " + _rep(" #", n), "yaml", OBJ),
    "double_quotes": (lambda n: _rep('"', n), "auto", None),
    "single_quotes": (lambda n: _rep("'", n), "auto", None),
    # blanks inside one YAML line (a lazy key/value before `[ \t]*` rescans each run)
    "yaml_key_blanks": (lambda n: "a" + _rep(" ", n) + "b", "yaml", None),
    "yaml_item_blanks": (lambda n: "- x" + _rep(" ", n) + "y", "yaml", OBJ),
    "yaml_value_blanks": (lambda n: "a: x" + _rep(" ", n) + "y", "yaml", None),
    "yaml_nbsp": (lambda n: "a: " + _rep("\u00a0", n) + "x", "yaml", None),
    "yaml_bad_lines": (lambda n: _rep('a: "x\n', n), "yaml", None),
    "yaml_colon_values": (lambda n: _rep("key: value: more ", n), "yaml", OBJ),
    "yaml_integer_text": (lambda n: 'a: "' + _rep("1", n) + 'x"', "yaml", INT_SCHEMA),
    # reasoning tags and fences
    "think_blocks": (lambda n: _rep("<think>x</think>", n) + "a: 1", "auto", None),
    "think_open_no_gt": (lambda n: _rep("<think ", n), "auto", None),
    "think_open_no_gt_after_value": (lambda n: _rep("a: 1 <thinking ", n), "auto", None),
    "fences": (lambda n: _rep("```yaml\nx: 1\n```\n", n), "auto", None),
    # a long list typed by the schema (the next line was found by slicing the rest)
    "text_items": (lambda n: "- a\n" + _rep("-b\n", n), "yaml", TEXTS),
    "colon_items": (lambda n: _rep("- a: b\n", n), "yaml", TEXTS),
    "quoted_values": (lambda n: _rep('a: "x" y\n', n), "yaml", OBJ),
    "escaped_breaks": (lambda n: _rep("a: 1\\n", n), "yaml", None),
    "prose_then_bracket": (lambda n: _rep("ab ", n) + "[", "yaml", TEXTS),
    "opener_left_off": (lambda n: '"a": ' + _rep('"x{', n) + "}", "json", None),
}

# the helpers on their own: not every shape reaches them through parse()
UNIT_SHAPES: dict[str, tuple[Callable[[str], Any], Callable[[int], str]]] = {
    "engine_dq_escaped": (_json_repair.repair_json, lambda n: '{"a": "' + _rep('x\\"', n)),
    "engine_sq_escaped": (_json_repair.repair_json, lambda n: "{'a': '" + _rep("x\\'", n)),
    "engine_inner_quotes": (_json_repair.repair_json, lambda n: '{"a": "' + _rep('x" ', n)),
    "engine_quote_colon": (_json_repair.repair_json, lambda n: '{"a": "' + _rep('x": ', n)),
    "engine_digits": (_json_repair.repair_json, lambda n: "[" + _rep("1", n) + "x"),
    "engine_sq_backslash": (_json_repair.repair_json, lambda n: "['" + _rep("x\\' ", n) + "\\"),
    "engine_lsmart": (_json_repair.repair_json, lambda n: "[‘" + _rep("x\\’ ‘", n) + "\\"),
    "engine_words": (_json_repair.repair_json, lambda n: "{a: " + _rep("b ", n)),
    "engine_commas": (_json_repair.repair_json, lambda n: "[" + _rep(",", n)),
    "engine_values": (_json_repair.repair_json, lambda n: "[" + _rep("{}", n)),
    "engine_comments": (_json_repair.repair_json, lambda n: "[1 " + _rep("// c\n", n)),
    "engine_dq_blanks": (_json_repair.repair_json, lambda n: '{"a": "' + _rep('x"    ', n)),
    "check_flow_depth": (
        lambda t: _load.check_flow_depth(t, 100),
        lambda n: "[" * 60 + "]" * 60 + "[" * 60 + '"' + _rep('x\\"', n) + "\\",
    ),
    "normalize_spaces": (
        lambda t: _extract.normalize_spaces(t, RepairContext()),
        lambda n: "a: " + _rep("\u00a0", n) + "x",
    ),
    "strip_think": (
        lambda t: _extract.strip_think(t, RepairContext()),
        lambda n: _rep("<think>x</think>", n) + "a: 1",
    ),
    "find_json_end": (
        lambda t: _extract.find_json_end(t, 0),
        lambda n: '{"a": "' + _rep('x\\"', n) + "\\",
    ),
    "split_line_key": (_repair_yaml.split_line, lambda n: "a" + _rep(" ", n) + "b"),
    "split_line_item": (_repair_yaml.split_line, lambda n: "- x" + _rep(" ", n) + "y"),
    "stream_top_key": (_stream._TOP_KEY.match, lambda n: "a" + _rep(" ", n) + "b"),
    "taxonomy_line_marker": (lambda t: _taxonomy._LINE.sub("", t), lambda n: "x" + _rep(" ", n)),
    "list_after_prose": (_extract.json_payload_start, lambda n: _rep("ab ", n) + "["),
    "escaped_line_breaks": (
        lambda t: _extract.escaped_line_breaks(t, RepairContext()),
        lambda n: "a: 1" + _rep("\\nb: 2", n),
    ),
}


@pytest.mark.timeout(GUARD_S)
@pytest.mark.parametrize("name", sorted(PARSE_SHAPES))
def test_parse_finishes_on_adversarial_input(name: str) -> None:
    build, fmt, schema = PARSE_SHAPES[name]
    result = parse(build(SIZE), schema, format=fmt)
    assert result.stage in ("clean", "repaired", "failed")


@pytest.mark.timeout(GUARD_S)
@pytest.mark.parametrize("name", sorted(UNIT_SHAPES))
def test_helper_finishes_on_adversarial_input(name: str) -> None:
    func, build = UNIT_SHAPES[name]
    func(build(SIZE))


def test_unterminated_escaped_string_fails_fast_and_closed_one_reads() -> None:
    text = '{\'b\': 1, "a": "' + 'x\\"' * 2000
    r = parse(text, None)
    assert r.stage == "failed" and r.error is not None and "cut" in r.error
    closed = parse(text + '"}', None)
    assert closed.value == {"b": 1, "a": 'x"' * 2000}


def test_engine_closes_unterminated_tokens_and_says_so() -> None:
    for text, value in (
        ('{"a": "x\\"y', '{"a": "x\\"y"}'),
        ("{\"a\": 'x\\'y", '{"a": "x\'y"}'),
        ('{"a": 1 /* open', '{"a": 1}'),
    ):
        read = _json_repair.repair_json(text)
        assert read is not None and read.values == [value] and read.truncated, text
    read = _json_repair.repair_json("{'a': 1 /* c */}")
    assert read is not None and read.repairs == ["json_single_quotes", "json_comments"]
    # a literal glued to a word is not a literal
    read = _json_repair.repair_json('{"a": xTrue}')
    assert read is not None and read.values == ['{"a": "xTrue"}']


def test_integer_beyond_python_digit_limit_is_refused_not_raised() -> None:
    digits = "1" * 5000
    for text, schema in [
        ('{"a": ' + digits + "}", None),
        ("a: " + digits, None),
        ("a: " + digits, INT_SCHEMA),
        ('a: "' + digits + '"', INT_SCHEMA),
        ("a: 0x" + "f" * 5000, None),
    ]:
        r = parse(text, schema)
        assert r.stage == "failed" and r.error is not None, (text[:20], schema)
        assert r.error.startswith("input refused"), r.error
    # under a string schema the digits are text, as written
    r = parse("a: " + digits, {"type": "object", "properties": {"a": {"type": "string"}}})
    assert r.ok and r.value == {"a": digits}
