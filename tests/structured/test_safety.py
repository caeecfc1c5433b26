"""Untrusted input: every case ends fast in a documented failure, never a hang or crash."""

from __future__ import annotations

import time

import pytest

from llmkit import ParseError, UnsafeInputError
from llmkit.structured import Limits, loads, parse

BILLION_LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

CASES = {
    "billion_laughs": BILLION_LAUGHS,
    "many_aliases": "a: &a 1\nb: [" + ", ".join(["*a"] * 500) + "]",
    "recursive_alias": "a: &a [*a]",
    "deep_flow_yaml": "a: " + "[" * 5000 + "]" * 5000,
    "deep_json": "[" * 100_000 + "]" * 100_000,
    "deep_block": "".join(" " * i + "k:\n" for i in range(300)) + " " * 300 + "k: 1",
    "python_tag": "a: !!python/object/apply:os.system ['echo hi']",
    "python_name": "!!python/name:os.system",
    "nul": "a: 1\x00",
    "empty": "",
    "blank": "   \n\t\n",
    "huge": "a: " + "x" * 3_000_000,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_fast(name: str) -> None:
    t = time.perf_counter()
    for fmt in ("auto", "yaml", "json"):
        r = parse(CASES[name], None, format=fmt)
        assert r.stage == "failed", (name, fmt, r.repairs)
        assert r.value is None and r.error
    # Tens of milliseconds here: 5 s only catches a hang (an alias bomb expanded, a
    # quadratic walk of the 3 MB case), never a busy machine.
    assert time.perf_counter() - t < 5


def test_invalid_utf8() -> None:
    r = parse(b"a: \xff\xfe", None)
    assert r.stage == "failed" and "UTF-8" in (r.error or "")
    assert parse("a: caf\u00e9".encode(), None).value == {"a": "café"}


def test_loads_raises_documented_errors() -> None:
    with pytest.raises(UnsafeInputError):
        loads("a: 1\x00")
    with pytest.raises(ParseError):
        loads("{{{{ ::: [[[ ")
    with pytest.raises(UnsafeInputError):
        loads("x" * 100, limits=Limits(max_chars=10))


def test_other_tags_are_text_not_objects() -> None:
    r = parse("a: !foo bar\nb: !!binary aGk=", None, format="yaml")
    assert r.ok and r.value == {"a": "!foo bar", "b": "!!binary aGk="}
    assert "ignore_tag" in r.repairs


def test_alias_budget_allows_small_real_use() -> None:
    r = parse("base: &b {x: 1}\none: *b\ntwo: *b", None, format="yaml")
    assert r.value == {"base": {"x": 1}, "one": {"x": 1}, "two": {"x": 1}}
    assert r.value["one"] is not r.value["two"]  # copies, so later mutation stays local


def test_no_yaml11_guessing() -> None:
    r = parse("a: NO\nb: 1:30\nc: 01234\nd: 1.10\ne: yes\nf: 0o17\ng: ~", None, format="yaml")
    assert r.value == {"a": "NO", "b": "1:30", "c": 1234, "d": 1.1, "e": "yes", "f": 15, "g": None}
    schema = {"type": "object", "properties": {k: {"type": "string"} for k in "abcd"}}
    r = parse("a: NO\nb: 1:30\nc: 01234\nd: 1.10", schema, format="yaml")
    assert r.value == {"a": "NO", "b": "1:30", "c": "01234", "d": "1.10"} and r.stage == "clean"
