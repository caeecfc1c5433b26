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
