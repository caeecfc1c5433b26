"""Property tests: valid documents pass untouched; lossless error classes come back equal.

Stated invariants for the lossy or ambiguous classes are in each test's docstring.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import assume, example, given
from hypothesis import strategies as st

from llmkit.structured import parse

# arbitrary Unicode text, minus surrogates (not encodable) and NUL (refused by design)
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
KEYS = TEXT
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
DOCS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=5)
# simple text: what models write as plain values (the lossless repair classes apply)
WORD = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
PLAIN = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
SIMPLE = st.dictionaries(IDENT, PLAIN, min_size=1, max_size=5)


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=10_000)


def _no_octal_like(value: Any) -> bool:
    # PyYAML's dumper (YAML 1.1) leaves `0o7` plain; YAML 1.2 core reads it as an integer.
    # Also skip documents PyYAML itself does not read back (it emits NEL/LS raw).
    text = json.dumps(value)
    if re.search(r'"[-+]?0o[0-7]+"', text):
        return False
    return bool(yaml.load(_yaml(value), Loader=yaml.CSafeLoader) == value)


@given(DOCS)
def test_valid_json_passes_untouched(doc: dict[str, Any]) -> None:
    text = json.dumps(doc, ensure_ascii=False)
    for fmt in ("json", "auto"):
        r = parse(text, None, format=fmt)
        assert r.stage == "clean", (r.repairs, r.error)
        assert r.value == doc


@given(DOCS)
def test_valid_yaml_passes_untouched(doc: dict[str, Any]) -> None:
    assume(_no_octal_like(doc))
    text = _yaml(doc)
    r = parse(text, None, format="yaml")
    assert r.error is None, r.error
    assert r.value == doc
    assert r.stage == "clean", r.repairs


@given(DOCS)
def test_valid_yaml_passes_untouched_with_schema(doc: dict[str, Any]) -> None:
    """With a permissive schema the typing by schema changes nothing either."""
    assume(_no_octal_like(doc))
    r = parse(_yaml(doc), {"type": "object"}, format="yaml")
    assert r.stage == "clean" and r.value == doc


@given(DOCS, st.sampled_from(["yaml", "yml", "", "json", "text"]), PLAIN, PLAIN)
@example({", ": None}, "yaml", "0", "0")  # a key holding the separator the test rewrites
def test_fences_prose_think_bom_crlf_are_lossless(
    doc: dict[str, Any], lang: str, before: str, after: str
) -> None:
    assume(_no_octal_like(doc))
    body = _yaml(doc).rstrip("\n")
    text = f"<think>{before}</think>\n{before}:\n```{lang}\n{body}\n```\n{after}."
    r = parse(text, None)
    assert r.value == doc, (r.repairs, r.error)
    assert "extract_fence" in r.repairs
    # CRLF between items only: replacing ", " in the text also changed keys that hold ", "
    # (a flaky failure, found by chance, on {", ": None})
    crlf = json.dumps(doc, ensure_ascii=False, separators=(",\r\n", ": "))
    r = parse("\ufeff" + crlf, None)
    assert r.value == doc


@given(SIMPLE)
def test_json_flavours_are_lossless(doc: dict[str, str]) -> None:
    """Python repr, trailing commas, unquoted keys and comments all come back equal."""
    assert parse(repr(doc), None, format="json").value == doc
    trailing = json.dumps(doc, ensure_ascii=False)[:-1] + ",}"
    assert parse(trailing, None, format="json").value == doc
    unquoted = "{" + ", ".join(f"{k}: {json.dumps(v)} // c" + "\n" for k, v in doc.items()) + "}"
    assert parse(unquoted, None, format="json").value == doc


@given(SIMPLE, PLAIN)
def test_unquoted_colon_values(doc: dict[str, str], extra: str) -> None:
    """Invariant: a plain value with ': ' inside comes back as exactly its text."""
    doc = {k: f"{v}: {extra}" for k, v in doc.items()}
    text = "\n".join(f"{k}: {v}" for k, v in doc.items())
    r = parse(text, None, format="yaml")
    assert r.value == doc and "quote_colon_value" in r.repairs


@given(SIMPLE, WORD)
def test_hash_in_value(doc: dict[str, str], tag: str) -> None:
    """Invariant: `#` glued to a word stays text; `# ` with a space is a comment."""
    glued = "\n".join(f"{k}: {v} #{tag}" for k, v in doc.items())
    assert parse(glued, None, format="yaml").value == {k: f"{v} #{tag}" for k, v in doc.items()}
    comment = "\n".join(f"{k}: {v}  # {tag}" for k, v in doc.items())
    r = parse(comment, None, format="yaml")
    assert r.value == {k: v for k, v in doc.items()} or r.value == {
        k: _core(v) for k, v in doc.items()
    }


def _core(v: str) -> Any:
    from llmkit.structured import resolve_core

    return resolve_core(v)


@given(SIMPLE, st.data())
def test_duplicate_keys_with_two_values_fail(doc: dict[str, str], data: st.DataObject) -> None:
    """Invariant: a key written twice with another value is two readings of one field, so
    the answer fails (last-wins was a guess); written twice alike, it is that value."""
    key = data.draw(st.sampled_from(sorted(doc)))
    r = parse(_yaml(doc) + f"{key}: replaced value\n", {"type": "object"}, format="yaml")
    assert not r.ok, r.value
    again = parse(_yaml(doc) + _yaml({key: doc[key]}), {"type": "object"}, format="yaml")
    assert again.ok and set(again.value) == set(doc), again.error
    assert "duplicate_keys" in again.repairs


@given(DOCS, st.floats(0.0, 1.0))
def test_truncated_json(doc: dict[str, Any], frac: float) -> None:
    """Invariant: a cut answer never raises; when it parses, it is a dict whose fields
    other than the last one written equal the original's."""
    text = json.dumps(doc, ensure_ascii=False)
    cut = text[: max(1, int(len(text) * frac))]
    r = parse(cut, None, format="json", finish_reason="length")
    assert r.truncated
    if r.ok and isinstance(r.value, dict):
        keys = list(r.value)
        for k in keys[:-1]:
            assert k in doc and r.value[k] == doc[k]


@given(SIMPLE)
def test_indentation_invariant(doc: dict[str, str]) -> None:
    """Invariant: nested keys indented inconsistently keep their set of keys and values."""
    lines = ["root:"] + [
        f"{' ' * (2 + (i % 2))}{k}: {json.dumps(v, ensure_ascii=False)}"
        for i, (k, v) in enumerate(doc.items())
    ]
    r = parse("\n".join(lines), None, format="yaml")
    assert r.ok
    assert r.value == {"root": doc}
