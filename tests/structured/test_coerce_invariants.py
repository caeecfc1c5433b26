"""What coercion never does (issue 7, section 1), each stated as a property."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from recursive_schemas import JSON_VALUE

from llmkit.structured import compile_schema, parse
from llmkit.structured._coerce import coerce, normalize_key
from llmkit.structured._load import load_json, load_yaml

SCALAR_SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "string", "default": ""},
    {"type": "integer", "default": 0},
    {"type": "boolean", "default": False},
    {"enum": ["None", "null", "", "none"]},
    {"enum": [0, False, ""]},
    {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": ["string", "boolean"]},
    {"type": "array", "items": {"type": "string"}},
]
NULL_TEXTS = ['{"x": null}', "x:", "x: null", "x: ~", "x: Null", "x:   \ny: 1"]


@given(st.sampled_from(SCALAR_SCHEMAS), st.sampled_from(NULL_TEXTS), st.booleans())
def test_null_is_never_made_into_empty_zero_or_false(
    sub: dict[str, Any], text: str, required: bool
) -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"x": sub}}
    if required:
        schema["required"] = ["x"]
    r = parse(text, schema)
    if r.ok:
        assert r.value["x"] is None, (r.value, r.repairs)
    assert "fill_default" not in r.repairs


@pytest.mark.parametrize("text", ["key: #foo", "key: # foo", "- #foo", "key:\n  - #a\n  - b"])
def test_value_read_as_a_comment_is_never_filled(text: str) -> None:
    """YAML reads `key: #foo` as a comment: the value is text or the answer fails."""
    for schema in (
        {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "properties": {"key": {"type": "array", "items": {"type": "string"}}}},
    ):
        r = parse(text, schema)
        if r.ok:
            flat = json.dumps(r.value)
            assert '""' not in flat and "null" not in flat, (text, r.value, r.repairs)


@given(
    st.sampled_from(["1e400", "-1E999", "1.5e309", "9" * 400 + ".0"]),
    st.sampled_from([None, {"type": "number"}, {"type": "string"}, {}, {"type": "integer"}]),
    st.sampled_from(["yaml", "json"]),
)
def test_overflow_never_becomes_infinity(number: str, sub: Any, fmt: str) -> None:
    schema = None if sub is None else {"type": "object", "properties": {"v": sub}}
    text = f'{{"v": {number}}}' if fmt == "json" else f"v: {number}"
    r = parse(text, schema, format=fmt)
    if r.ok:
        v = r.value["v"]
        assert not (isinstance(v, float) and math.isinf(v)), (text, sub, v)


def test_overflow_under_a_string_schema_keeps_the_text() -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string"}}}
    assert parse("v: 1e400", schema).value == {"v": "1e400"}
    loaded = load_json('{"v": 1e400}', typed=True).value
    assert coerce(loaded, compile_schema(schema), []) == {"v": "1e400"}
    r = parse("v: 1e400", {"type": "object", "properties": {"v": {"type": "number"}}})
    assert r.stage == "failed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"v": 1.10}', "1.10"), ('{"v": 1e2}', "1e2"), ('{"v": -0}', "-0"), ('{"v": 7}', "7")],
)
def test_json_number_under_string_schema_keeps_the_text_written(text: str, expected: str) -> None:
    schema = compile_schema({"type": "object", "properties": {"v": {"type": "string"}}})
    fired: list[str] = []
    assert coerce(load_json(text, typed=True).value, schema, fired) == {"v": expected}
    assert fired == ["coerce_string"]  # JSON said number: a recorded coercion


def test_json_numbers_typed_by_the_schema_are_plain_values() -> None:
    schema = compile_schema(
        {
            "type": "object",
            "properties": {"n": {"type": "number"}, "i": {"type": "integer"}, "a": {}},
        }
    )
    fired: list[str] = []
    out = coerce(load_json('{"n": 1.10, "i": 3, "a": [1.5, 2]}', typed=True).value, schema, fired)
    assert out == {"n": 1.1, "i": 3, "a": [1.5, 2]} and fired == []
    assert type(out["n"]) is float and type(out["i"]) is int and type(out["a"][1]) is int


def test_yaml_number_under_string_schema_is_not_a_coercion() -> None:
    r = parse("v: 1.10", {"type": "object", "properties": {"v": {"type": "string"}}})
    assert r.stage == "clean" and r.value == {"v": "1.10"}


# --- defaults ------------------------------------------------------------------------------

DEFAULTS = {
    "type": "object",
    "properties": {
        "lang": {"type": "string", "default": "en"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "note": {"type": "string", "default": "none"},
        "level": {"$ref": "#/$defs/level"},
    },
    "required": ["lang", "tags", "level"],
    "$defs": {"level": {"type": "integer", "default": 3}},
}


def test_missing_properties_take_their_declared_default() -> None:
    r = parse("{}", DEFAULTS, format="json")
    assert r.ok and r.value == {"lang": "en", "tags": [], "note": "none", "level": 3}
    assert r.stage == "repaired" and r.repairs == ("fill_default",)
    r.value["tags"].append("x")  # a copy: the schema's default is not shared
    assert DEFAULTS["properties"]["tags"]["default"] == []  # type: ignore[index]


def test_default_never_replaces_a_value_that_is_present() -> None:
    r = parse('{"lang": null, "tags": [], "level": 1}', DEFAULTS, format="json")
    assert r.stage == "failed" and "fill_default" not in r.repairs


def test_optional_missing_property_takes_its_default_as_a_recorded_coercion() -> None:
    r = parse('{"lang": "fr", "tags": [], "level": 1}', DEFAULTS, format="yaml")
    assert r.value == {"lang": "fr", "tags": [], "level": 1, "note": "none"}
    assert r.stage == "repaired" and r.repairs == ("fill_default",)
    complete = '{"lang": "fr", "tags": [], "level": 1, "note": "x"}'
    assert parse(complete, DEFAULTS, format="json").stage == "clean"


# --- key renaming ----------------------------------------------------------------------------

KEY = st.text(alphabet="abcAB_-. ", min_size=1, max_size=6)


@given(st.dictionaries(KEY, st.integers(), max_size=5), st.lists(KEY, max_size=5))
def test_valid_json_keys_are_never_renamed(doc: dict[str, int], names: list[str]) -> None:
    """A document valid as written keeps its keys, however close they are to properties."""
    schema = {"type": "object", "properties": {n: {"type": "integer"} for n in names}}
    r = parse(json.dumps(doc), schema, format="json")
    assert r.stage == "clean" and r.value == doc and list(r.value) == list(doc)


def test_keys_are_renamed_when_that_makes_the_document_valid() -> None:
    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    }
    r = parse('{"OrderId": "A1"}', schema, format="json")
    assert r.value == {"order_id": "A1"} and r.repairs == ("coerce_key",)


def test_ambiguous_renames_are_not_made() -> None:
    two_keys = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    }
    r = parse('{"OrderId": "A1", "order-id": "B2"}', two_keys, format="json")
    assert r.stage == "failed" and "coerce_key" not in r.repairs
    two_props = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "orderId": {"type": "string"}},
        "required": ["order_id"],
    }
    r = parse('{"ORDER ID": "A1"}', two_props, format="json")
    assert r.stage == "failed" and "coerce_key" not in r.repairs


def test_renaming_that_does_not_make_the_document_valid_is_dropped() -> None:
    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "integer"}},
        "required": ["order_id"],
    }
    r = parse('{"OrderId": "not a number"}', schema, format="json")
    assert r.stage == "failed" and "coerce_key" not in r.repairs
    assert normalize_key("Order-ID") == normalize_key("order_id")


# --- valid JSON stays untouched --------------------------------------------------------------


def _docs(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text, kids, max_size=4),
        max_leaves=20,
    )


JSON_DOCS = _docs(st.text(max_size=8))
# characters YAML allows unescaped (libyaml refuses the rest, and surrogate-pair escapes)
YAML_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF, blacklist_categories=["Cc"]),
    max_size=8,
)


def _schema_of(v: Any) -> dict[str, Any]:
    """The tightest simple schema that ``v`` validates against as written."""
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
        if not v:
            return {"type": "array", "maxItems": 0}
        return {"type": "array", "prefixItems": [_schema_of(x) for x in v]}
    return {
        "type": "object",
        "properties": {k: _schema_of(x) for k, x in v.items()},
        "required": list(v),
    }


@pytest.mark.slow
@given(st.dictionaries(st.text(max_size=5), JSON_DOCS, max_size=5))
def test_valid_json_that_validates_comes_back_unchanged_and_clean(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assume(json.loads(text) == doc)
    for schema in (_schema_of(doc), JSON_VALUE, {"type": "object"}):
        r = parse(text, schema, format="json")
        assert r.stage == "clean", (schema, r.repairs, r.error)
        assert r.value == doc
        loaded = load_json(text, typed=True).value  # the typed load path as well
        fired: list[str] = []
        assert coerce(loaded, compile_schema(schema), fired) == doc and fired == []


@pytest.mark.slow
@given(st.dictionaries(YAML_TEXT, _docs(YAML_TEXT), max_size=5))
def test_yaml_loaded_document_is_untouched_by_coercion_against_its_own_schema(
    doc: dict[str, Any],
) -> None:
    text = json.dumps(doc, ensure_ascii=False)
    assume(json.loads(text) == doc)
    # JSON is YAML 1.2: the typed YAML load of it coerces to the same values, silently
    loaded = load_yaml(text, typed=True).value
    fired: list[str] = []
    out = coerce(loaded, compile_schema(_schema_of(doc)), fired)
    assert out == doc and fired == []


# --- dataclasses through pydantic's TypeAdapter ----------------------------------------------


@dataclass
class Pair:
    pair: tuple[int, str]
    label: str = "x"


def test_dataclass_tuple_is_a_pair_not_a_list_of_integers() -> None:
    compiled = compile_schema(Pair)
    assert compiled is not None
    prop = compiled.schema["properties"]["pair"]
    assert [p["type"] for p in prop["prefixItems"]] == ["integer", "string"]
    r = parse("pair: [3, abc]", Pair)
    assert r.ok and r.value == Pair((3, "abc")), r.error
    assert isinstance(r.value.pair, tuple)
    assert parse("pair: [3, 4, 5]", Pair).stage == "failed"


def test_yaml_scalar_takes_the_first_union_branch_that_fits_as_written() -> None:
    """The valid-as-loaded shortcut never overrides branch order (text before number)."""
    text_first = {
        "type": "object",
        "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
    }
    number_first = {"type": "object", "properties": {"v": {"type": ["integer", "string"]}}}
    assert parse("v: 5", text_first).value == {"v": "5"}
    assert parse("v: 5", number_first).value == {"v": 5}
    assert parse('{"v": 5}', text_first, format="json").value == {"v": 5}  # JSON said number
