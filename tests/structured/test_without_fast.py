"""The ``fast`` extra changes speed, never a result.

jsonschema-rs (the ``fast`` extra, in ``all``) checks and validates where it agrees with
jsonschema; the base install has only jsonschema. The same answers parsed in two fresh
interpreters, one without jsonschema-rs, give the same results field for field: the
realistic corpus (every class, with and without a schema) and a seeded sample of the
compositional generator. Only a schema error's wording may differ (jsonschema-rs quotes
values as JSON, jsonschema as Python: ``"a"`` or ``'a'``); its kind and place do not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# argv: with|without, the checkout; prints every result's to_dict() as one JSON list
PARSE_ALL = """
import importlib.util, json, sys
from pathlib import Path

if sys.argv[1] == "without":
    sys.modules["jsonschema_rs"] = None  # None in sys.modules: not installed
root = Path(sys.argv[2])
spec = importlib.util.spec_from_file_location("compose", root / "benchmarks/compose_corpus.py")
compose = importlib.util.module_from_spec(spec)
sys.modules["compose"] = compose
spec.loader.exec_module(compose)
import llmkit

realistic = root / "tests/structured/corpus/realistic.jsonl"
cases = [json.loads(line) for line in realistic.read_text().splitlines() if line.strip()]
cases += compose.generate(300, seed=11, triples=40)
results = []
for case in cases:
    result = llmkit.parse(case["text"], case.get("schema"), format=case.get("format", "auto"),
                          finish_reason=case.get("finish_reason"))
    results.append(result.to_dict())
loaded = "jsonschema_rs" in sys.modules and sys.modules["jsonschema_rs"] is not None
print(json.dumps({"fast": loaded, "results": results}, sort_keys=True, default=str))
"""


def _parse_all(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PARSE_ALL, mode, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    parsed: dict[str, object] = json.loads(out.stdout)
    return parsed


def test_results_are_the_same_without_jsonschema_rs() -> None:
    pytest.importorskip("jsonschema_rs")  # the dev install has it: this compares the two
    fast, plain = _parse_all("with"), _parse_all("without")
    assert fast["fast"] is True and plain["fast"] is False
    assert isinstance(fast["results"], list) and isinstance(plain["results"], list)
    assert len(fast["results"]) > 800
    differ = [
        (i, a, b) for i, (a, b) in enumerate(zip(fast["results"], plain["results"], strict=True))
        if _comparable(a) != _comparable(b)
    ]  # fmt: skip
    assert not differ, f"{len(differ)} results differ; first: {differ[0]}"


def _comparable(result: dict[str, object]) -> dict[str, object]:
    error = result["error"]
    if isinstance(error, str) and error.startswith("schema: "):
        # the kind and the places, not the wording: "schema: $.a: ...; $.b: ..."
        places = [part.split(": ", 1)[0] for part in error[len("schema: ") :].split("; $")]
        error = ("schema", places)
    return {**result, "error": error}
