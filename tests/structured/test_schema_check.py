"""The meta-schema check: jsonschema-rs vouches only where it agrees with jsonschema's
``check_schema``; every schema it cannot vouch for gets jsonschema's check and error."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

from llmkit.structured import _schema

WRONG = [
    {"type": "objectx"},
    {"minimum": True},
    {"required": ["a", "a"]},
    {"properties": {"a": {"type": ["string", "string"]}}},
    # valid to jsonschema-rs, not to Python's re: jsonschema's check decides
    {"pattern": "(?<x>a)"},
    {"patternProperties": {"(?<x>a)": {}}},
    {"properties": {"a": {"pattern": "(?<x>a)"}}},
    # another draft named: checked against 2020-12, as jsonschema does
    {"$schema": "http://json-schema.org/draft-07/schema#", "minimum": "1"},
]
RIGHT: list[Any] = [
    {"type": "object"},
    {"properties": {"a": {"type": "integer"}}, "required": ["a"]},
    {"pattern": "^a+$"},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "enum": []},
    True,
]


@pytest.mark.parametrize("schema", WRONG, ids=repr)
def test_a_wrong_schema_raises_jsonschemas_own_error(schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as expected:
        Draft202012Validator.check_schema(schema)
    with pytest.raises(SchemaError) as got:
        _schema._check_schema(schema)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("schema", RIGHT, ids=repr)
def test_a_right_schema_passes_both(schema: Any) -> None:
    Draft202012Validator.check_schema(schema)
    _schema._check_schema(schema)


def test_jsonschema_rs_vouches_only_without_regexes_or_another_draft() -> None:
    assert _schema._rs_vouches_for({"properties": {"a": {"type": "string"}}})
    assert not _schema._rs_vouches_for({"items": {"pattern": "x"}})
    assert not _schema._rs_vouches_for({"$schema": "http://json-schema.org/draft-07/schema"})
    assert not _schema._rs_vouches_for(True)


def test_the_python_validator_is_made_on_first_use_and_decides_as_before() -> None:
    schema = {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]}
    compiled = _schema.compile_schema(schema)
    assert compiled is not None
    assert isinstance(compiled.validator, _schema._LazyValidator)
    eager = _schema.MemoValidator(schema)
    for value in (1, "ab", "abc", None, [1]):
        assert compiled.validator.is_valid(value) == eager.is_valid(value)
        assert [e.message for e in compiled.validator.iter_errors(value)] == [
            e.message for e in eager.iter_errors(value)
        ]


def test_with_a_uri_library_jsonschema_checks_every_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # jsonschema's check then reads $id/$ref/$schema as URIs, which jsonschema-rs does not
    monkeypatch.setattr(_schema, "_uri_formats_checked", lambda: True)
    assert not _schema._rs_vouches_for({"type": "object"})
