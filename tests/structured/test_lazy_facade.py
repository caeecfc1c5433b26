"""The structured facade is lazy, and its registry is whole in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys


def _fresh(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.strip()


def test_the_registry_is_whole_without_calling_parse() -> None:
    got = _fresh(
        "from llmkit.structured import hint_lines, rules; import json;"
        "print(json.dumps([len(rules()), hint_lines(['extract_fence'])]))"
    )
    count, hints = json.loads(got)
    assert count > 20 and hints, got


def test_the_first_parse_loads_no_tokenizer_stream_or_reports() -> None:
    got = _fresh(
        "import sys, json, llmkit; llmkit.parse('a: 1', {'type': 'object'});"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('llmkit'))))"
    )
    loaded = set(json.loads(got))
    for heavy in ("_cost", "_stream", "_taxonomy", "_reprompt", "_instructions"):
        assert f"llmkit.structured.{heavy}" not in loaded, loaded
    assert "llmkit._tokens" not in loaded


def _loaded_after(code: str) -> set[str]:
    return set(
        json.loads(
            _fresh(f"import sys, json, llmkit; {code}; print(json.dumps(list(sys.modules)))")
        )
    )


def test_the_first_parse_without_a_schema_loads_no_validator_diff_or_redactor() -> None:
    loaded = _loaded_after("assert llmkit.parse('a: 1').ok")
    # jsonschema-rs alone imports socket and email (~6 ms); difflib only for a repaired
    # answer's diff; the redactor (and logging) only for a refused $ref
    for module in ("jsonschema_rs", "difflib", "logging", "llmkit._redact", "importlib.metadata"):
        assert module not in loaded, module
    # the schema machinery comes with the first schema
    for module in ("_schema", "_schema_paths", "_refs"):
        assert f"llmkit.structured.{module}" not in loaded, module


def test_the_first_parse_with_a_schema_loads_no_diff_or_redactor() -> None:
    loaded = _loaded_after(
        "assert llmkit.parse('n: 3', {'type': 'object', 'properties': {'n': {'type': 'integer'}}}).ok"
    )
    for module in ("difflib", "logging", "llmkit._redact", "importlib.metadata"):
        assert module not in loaded, module
    # jsonschema-rs checks and validates a plain schema: the pure-Python jsonschema
    # (~45 ms to import) waits for a schema or a value that needs it
    assert "jsonschema_rs" in loaded
    assert "jsonschema" not in loaded


def test_jsonschema_is_loaded_where_a_schema_needs_it() -> None:
    loaded = _loaded_after(
        "assert llmkit.parse('s: ab', {'properties': {'s': {'pattern': '^a'}}}).ok"
    )
    assert "jsonschema" in loaded  # a regular expression: checked as Python's, as before


def test_the_json_engines_patterns_are_not_compiled_by_a_yaml_parse() -> None:
    got = _fresh(
        "import json, llmkit; from llmkit._lazy import _LazyPattern;"
        "assert llmkit.parse('a: 1').ok;"
        "from llmkit.structured import _json_repair as j;"
        "lazy = [v for v in vars(j).values() if isinstance(v, _LazyPattern)];"
        "print(json.dumps([len(lazy), sum('match' in vars(v) for v in lazy)]))"
    )
    lazy, compiled = json.loads(got)
    assert lazy >= 10 and compiled == 0, got
