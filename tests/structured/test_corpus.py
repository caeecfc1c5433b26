"""Real failures collected from a real local model (added by the lead under corpus/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmkit.structured import parse

CORPUS = Path(__file__).parent / "corpus"


def _cases() -> list[tuple[str, dict[str, object]]]:
    if not CORPUS.is_dir():
        return []
    out = []
    # Real-model failures only; the realistic corpora have their own bar in test_realistic_corpus.
    for path in sorted(CORPUS.glob("smollm2*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append((f"{path.name}:{n}", json.loads(line)))
    return out


@pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason="no corpus yet: tests/structured/corpus/*.jsonl "
    "(records {text, schema, expected}) is added from real model runs",
)
@pytest.mark.parametrize(("where", "case"), _cases() or [("none", {})])
def test_corpus_case(where: str, case: dict[str, object]) -> None:
    if not case:
        pytest.skip("corpus directory holds no records")
    r = parse(
        str(case["text"]),
        case.get("schema"),
        format=str(case.get("format", "auto")),
        finish_reason=case.get("finish_reason"),
    )  # type: ignore[arg-type]
    expected = case.get("expected")
    if expected is None:
        assert r.stage == "failed", where
    else:
        assert r.ok, (where, r.error)
        assert r.to_dict()["value"] == expected, where
