"""Fuzzed documents (issue #7): valid JSON comes back clean and equal; nothing raises.

- Any JSON document, with a schema inferred from it or with none, parses back ``clean``
  and equal, keys never renamed (``Name`` stays ``Name`` even where the schema has ``name``
  alongside it).
- The same document dumped as YAML (``yaml.safe_dump``, which quotes what YAML 1.1 would
  retype) parses back equal against the inferred schema.
- Arbitrary text, lone surrogates included (``"\\ud800"``), and arbitrary bytes never make
  ``parse`` raise: the result is ``ok`` or ``failed``, and an ``ok`` result can be written
  as UTF-8 JSON (what ``llmkit parse --jsonl`` does with it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llmkit.structured import parse

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# NUL is refused by design (see test_properties.py); surrogates are not valid UTF-8 text.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
# Keys that look like what models and schemas use, in several cases and styles.
KEY = st.one_of(
    TEXT,
    st.from_regex(r"[A-Za-z][A-Za-z0-9_ -]{0,12}", fullmatch=True),
    st.sampled_from(["Name", "name", "NAME", "firstName", "first_name", "Note", "Sure", "id"]),
)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.sampled_from(
        ["```json", "<think>x</think>", "# not a comment", "None", "True", "NO", "1.10"]
    )
)
JSON_VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=4),
    max_leaves=15,
)
CONTAINER = st.one_of(
    st.dictionaries(KEY, JSON_VALUE, min_size=1, max_size=6),
    st.lists(JSON_VALUE, min_size=1, max_size=5),
)


def infer_schema(value: Any) -> dict[str, Any]:
    """The schema a user would write for exactly this document (every key required)."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        kinds = [infer_schema(v) for v in value]
        if kinds and all(k == kinds[0] for k in kinds):
            return {"type": "array", "items": kinds[0]}
        return {"type": "array"}
    return {
        "type": "object",
        "properties": {k: infer_schema(v) for k, v in value.items()},
        "required": list(value),
    }


def _fully_typed(value: Any) -> bool:
    """Every scalar has a schema type: no list mixes kinds (a YAML 1.1 dumper leaves
    ``0E0`` plain, which YAML 1.2 reads as a number unless the schema says string)."""
    if isinstance(value, dict):
        return all(_fully_typed(v) for v in value.values())
    if isinstance(value, list):
        homogeneous = not value or "items" in infer_schema(value)
        return homogeneous and all(_fully_typed(v) for v in value)
    return True


def _same(a: Any, b: Any) -> bool:
    """JSON equality where ``True`` is not ``1`` (and key order does not matter)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@FAST
@given(doc=CONTAINER, indent=st.sampled_from([None, 2]), with_schema=st.booleans())
def test_valid_json_comes_back_clean_and_equal(
    doc: Any, indent: int | None, with_schema: bool
) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    schema = infer_schema(doc) if with_schema else None
    for fmt in ("json", "auto"):
        r = parse(text, schema, format=fmt)
        assert r.stage == "clean", (fmt, r.stage, r.repairs, r.error, text)
        assert _same(r.value, doc), (fmt, r.value, text)


@pytest.mark.slow
@FAST
@given(doc=st.dictionaries(KEY, JSON_VALUE, min_size=1, max_size=6))
def test_keys_are_never_renamed_when_the_document_validates(doc: dict[str, Any]) -> None:
    """A schema naming ``name`` does not rename ``Name`` when the document is valid."""
    doc = {"Name": "as written", **doc}
    schema = infer_schema(doc)
    schema["properties"].setdefault("name", {"type": "string"})  # optional: doc validates
    r = parse(json.dumps(doc, ensure_ascii=False), schema, format="json")
    assert r.stage == "clean", (r.repairs, r.error)
    assert list(r.value) == list(doc)
    assert _same(r.value, doc)


@pytest.mark.slow
@FAST
@given(doc=st.dictionaries(KEY, JSON_VALUE, min_size=1, max_size=6))
def test_valid_yaml_comes_back_equal(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    # PyYAML's dumper itself does not round-trip every string (NEL, U+0085): skip those
    assume(_same(yaml.safe_load(text), doc) and _fully_typed(doc))
    r = parse(text, infer_schema(doc), format="yaml")
    assert r.ok, (r.error, text)
    assert _same(r.value, doc), (r.value, text)


NASTY = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\ud83d",
        '"',
        "'",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\n",
        "\t",
        "#",
        "- ",
        "```",
        "<think>",
        "</think>",
        "\\",
        "\\u",
        "\\ud800",
        "1e400",
        "None",
        "\r\n",
        "*",
        "&a",
        "---",
    ]
)
ANY_TEXT = st.lists(
    st.one_of(NASTY, st.text(st.characters(exclude_categories=()), max_size=8)), max_size=25
).map("".join)
SCHEMAS = st.sampled_from(
    [
        None,
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"type": "array", "items": {"type": "string"}},
        {"type": "string"},
        {
            "$ref": "#/$defs/v",
            "$defs": {
                "v": {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "number"},
                        {"type": "null"},
                        {"type": "array", "items": {"$ref": "#/$defs/v"}},
                        {"type": "object", "additionalProperties": {"$ref": "#/$defs/v"}},
                    ]
                }
            },
        },
    ]
)


def _check_result(r: Any) -> None:
    assert r.stage in ("clean", "repaired", "failed")
    out = r.to_dict()
    out.pop("raw", None)  # `llmkit parse --jsonl` writes the rest, as UTF-8
    out.pop("diff", None)
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # no lone surrogate in value/error/notes


@FAST
@given(
    text=ANY_TEXT,
    schema=SCHEMAS,
    fmt=st.sampled_from(["yaml", "json", "auto"]),
    finish=st.sampled_from([None, "stop", "length"]),
)
def test_any_text_never_raises(text: str, schema: Any, fmt: str, finish: str | None) -> None:
    _check_result(parse(text, schema, format=fmt, finish_reason=finish))


@FAST
@given(data=st.binary(max_size=60), fmt=st.sampled_from(["yaml", "json", "auto"]))
def test_any_bytes_never_raise(data: bytes, fmt: str) -> None:
    _check_result(parse(data, None, format=fmt))


def test_lone_surrogates_fail_cleanly() -> None:
    for text in ['{"a": "\ud800"}', "a: \udfff", "\ud800", '["x", "\ud83d"]', '{"\ud800": 1}']:
        for fmt in ("yaml", "json", "auto"):
            r = parse(text, None, format=fmt)
            _check_result(r)
            assert not r.ok, (text, fmt, r.value)
