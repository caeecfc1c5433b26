"""Bounded time and memory on any input and any schema (issue 7, section 3).

Costs are checked structurally (coercion steps, validity checks, nodes built), never by the
clock: the benchmarks print the times.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from recursive_schemas import JSON_VALUE, TREE

from llmkit.structured import Limits, compile_schema, parse
from llmkit.structured import _load as load_mod
from llmkit.structured import _schema as schema_mod
from llmkit.structured._coerce import CoercionStats, _Coercer, coerce
from llmkit.structured._load import load_json, load_yaml


def _nest(depth: int) -> Any:
    v: Any = 1
    for i in range(depth):
        v = {"a": [v, "x", None, True], "b": i}
    return v


def _tree(depth: int, leaf: Any) -> Any:
    v: Any = leaf
    for i in range(depth):
        v = {"id": i, "kids": [v, "s"]}
    return v


def _nodes(v: Any) -> int:
    if isinstance(v, dict):
        return 1 + sum(_nodes(x) for x in v.values())
    if isinstance(v, list):
        return 1 + sum(_nodes(x) for x in v)
    return 1


def _steps(doc: Any, schema: dict[str, Any]) -> int:
    """Coercion steps the full coercer takes (no valid-as-loaded shortcut)."""
    compiled = compile_schema(schema)
    assert compiled is not None
    coercer = _Coercer(compiled, rename=False)
    coercer.run(load_json(json.dumps(doc), typed=True).value, compiled.schema, 0)
    return coercer.calls


@pytest.mark.parametrize(
    ("schema", "make"),
    [
        (JSON_VALUE, _nest),
        (TREE, lambda d: _tree(d, {"name": "leaf"})),
        (TREE, lambda d: _tree(d, {"bad": 1})),  # invalid at the bottom: every branch tried
    ],
    ids=["json-value", "tree-valid", "tree-invalid"],
)
def test_coercion_steps_grow_linearly_with_the_document(schema: Any, make: Any) -> None:
    """Each (node, subschema) pair is coerced once: steps ≤ nodes × subschemas."""
    small, large = make(5), make(40)
    s_small, s_large = _steps(small, schema), _steps(large, schema)
    per_node = s_large / _nodes(large)
    assert per_node <= 12, (s_small, s_large)  # a few subschemas per node, never 2^depth
    assert s_large / s_small <= 2 * _nodes(large) / _nodes(small)


def test_valid_recursive_document_is_clean_and_unchanged() -> None:
    doc = _nest(30)
    for fmt in ("json", "auto", "yaml"):
        r = parse(json.dumps(doc), JSON_VALUE, format=fmt)
        assert r.stage == "clean" and r.value == doc, (r.repairs, r.error)
    stats: list[CoercionStats] = []
    coerce(load_yaml(json.dumps(doc), typed=True).value, compile_schema(JSON_VALUE), [], stats)
    assert stats == [CoercionStats(0, 0)]  # valid as loaded: no coercion walk at all


def test_python_validator_fallback_is_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where jsonschema-rs cannot decide, jsonschema's anyOf checks come from the memo."""
    descents = 0
    real = schema_mod.MemoValidator.descend

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal descents
        descents += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(schema_mod.MemoValidator, "descend", counting)
    python = schema_mod.CompiledSchema(TREE, TREE, schema_mod.MemoValidator(TREE), "json")
    doc = _tree(18, {"bad": 1})
    assert not python.is_valid(doc)
    errors = python.errors(doc)
    assert errors and "not valid under any" in errors[0].message
    # a few descents per node and branch, where jsonschema's own anyOf takes 2^18
    assert descents <= 12 * _nodes(doc), descents


def test_fast_and_python_validators_agree_on_recursive_schema() -> None:
    compiled = compile_schema(TREE)
    assert compiled is not None and compiled.fast is not None
    python = schema_mod.CompiledSchema(TREE, TREE, schema_mod.MemoValidator(TREE), "json")
    for doc in [_tree(6, {"name": "x"}), _tree(6, {"bad": 1}), _tree(3, "leaf"), {"id": "x"}]:
        assert compiled.is_valid(doc) == python.is_valid(doc), doc
        assert bool(compiled.errors(doc)) == bool(python.errors(doc)), doc


# --- aliases: bounded by expanded size ---------------------------------------------------


def test_alias_expansion_is_bounded_by_size_not_node_count() -> None:
    long = "x" * 10_000
    text = f"a: &a {long}\nb: [" + ", ".join(["*a"] * 99) + "]\n"  # ~20 KB, few nodes
    limits = Limits(max_alias_size=200_000)
    r = parse(text, None, limits=limits)
    assert r.stage == "failed" and "aliases expand to more than 200000 characters" in (
        r.error or ""
    )
    # the same document under the default limit (1,000,000 characters) is within bounds
    assert parse(text, None).ok


def test_alias_size_counts_keys_and_nested_copies() -> None:
    text = "a: &a {" + ", ".join(f"k{i}: v{i}" for i in range(50)) + "}\n"
    text += "b: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    with pytest.raises(Exception, match="characters"):
        load_yaml(text, limits=Limits(max_alias_size=2_000))
    assert load_yaml(text).value["c"][3][3]["k49"] == "v49"


def test_nested_duplicate_keys_build_each_node_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built = 0
    real = load_mod._Builder.build_node

    def counting(self: Any, node: Any, depth: int) -> Any:
        nonlocal built
        built += 1
        return real(self, node, depth)

    monkeypatch.setattr(load_mod._Builder, "build_node", counting)
    depth = 20
    text = ""
    for d in range(depth):
        pad = "  " * d
        # `k: {}` then `k:` with a block below: duplicates whose mappings merge
        text += f"{pad}k:\n{pad}  x: 1\n{pad}  k: {{}}\n"
    text = "\n".join(text.splitlines()) + "\n"
    loaded = load_yaml(text)
    assert "duplicate_keys" in loaded.fired
    assert built <= 10 * depth  # was 2^depth: each level rebuilt its children


def test_merged_duplicate_mappings_are_linear() -> None:
    pairs = [("a", {f"k{i}": i}) for i in range(3000)]
    merged = load_mod.merge_pairs(pairs)
    assert len(merged["a"]) == 3000


# --- any input gives a result ----------------------------------------------------------

SCHEMAS = [None, {"type": "object"}, JSON_VALUE, {"type": "string"}, {"type": "array"}]


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
            st.sampled_from(list("{}[]:,\"' -#&*!\n\t0123456789abcxyz")),
        ),
        max_size=60,
    ),
    st.sampled_from(SCHEMAS),
    st.sampled_from(["yaml", "json", "auto"]),
)
def test_any_text_gives_a_result_never_an_exception(text: str, schema: Any, fmt: str) -> None:
    r = parse(text, schema, format=fmt)
    assert r.stage in ("clean", "repaired", "failed")
    assert r.ok == (r.stage != "failed")


def test_lone_surrogate_in_yaml_fails_with_position() -> None:
    r = parse("title: ok\nnote: a\ud800b\n", {"type": "object"}, format="yaml")
    assert r.stage == "failed" and "surrogate" in (r.error or "")


def test_many_documents_are_each_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 300
    text = "".join(f"a: {i}\nb: text {i}\n---\n" for i in range(n))
    loaded = load_yaml(text, typed=True)
    assert loaded.documents is not None and len(loaded.documents) == n
    calls: list[CoercionStats] = []
    compiled = compile_schema({"type": "object", "required": ["a"]})
    for doc in loaded.documents:
        coerce(doc, compiled, [], calls)
    assert sum(c.steps for c in calls) <= 3 * n
