"""A stream of many invalid `---` documents is failed after one load, not reloaded by
every repair (issue 15 §4: 40,000 of them took 3-11 s); valid streams read as before."""

from __future__ import annotations

from typing import Any

import pytest

from llmkit.structured import _load, parse
from llmkit.structured._pipeline import MAX_REPAIRED_DOCUMENTS

SHAPES = [
    "---\nk{i}: [unclosed\n",
    "---\na: b: c{i}\n",
    "---\n- a{i}\nb: c\n",
    "---\n\tk{i}: v\n",
]


@pytest.fixture
def compose_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = _load.compose_yaml

    def counting(text: str) -> Any:
        calls.append(len(text))
        return real(text)

    monkeypatch.setattr(_load, "compose_yaml", counting)
    return calls


@pytest.mark.parametrize("shape", SHAPES)
def test_many_invalid_documents_are_loaded_once_and_failed(
    shape: str, compose_calls: list[int]
) -> None:
    count = 4 * MAX_REPAIRED_DOCUMENTS
    text = "".join(shape.format(i=i) for i in range(count))
    result = parse(text, {"type": "object"})
    assert result.stage == "failed"
    assert f"{count} YAML documents" in (result.error or "")
    whole = [n for n in compose_calls if n > len(text) // 2]
    assert len(whole) == 1, compose_calls  # the strict load; no repair reloads the stream


@pytest.mark.parametrize("count", [2, MAX_REPAIRED_DOCUMENTS])
def test_up_to_the_bound_a_stream_with_a_bad_document_is_still_repaired(count: int) -> None:
    text = "".join(f"---\nk: {i}\n" for i in range(count - 1)) + "---\nk: a: b\n"
    result = parse(text, {"type": "array", "items": {"type": "object"}})
    assert result.ok, result.error
    assert result.value == [*({"k": i} for i in range(count - 1)), {"k": "a: b"}]


def test_past_the_bound_the_same_stream_fails_and_says_why() -> None:
    count = MAX_REPAIRED_DOCUMENTS + 1
    text = "".join(f"---\nk: {i}\n" for i in range(count - 1)) + "---\nk: a: b\n"
    result = parse(text, {"type": "array", "items": {"type": "object"}})
    assert result.stage == "failed"
    assert result.error == (
        f"{count} YAML documents that do not load as written: more than"
        f" {MAX_REPAIRED_DOCUMENTS} are not repaired"
    )


def test_a_valid_stream_of_many_documents_reads_as_before() -> None:
    count = 3 * MAX_REPAIRED_DOCUMENTS
    text = "".join(f"---\nk: {i}\n" for i in range(count))
    result = parse(text, {"type": "array", "items": {"type": "object"}})
    assert result.ok, result.error
    assert result.value == [{"k": i} for i in range(count)]


def test_the_error_driven_repair_reads_schema_kinds_only_above_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one error line after another near the top of a long answer: each of the (up to 25)
    # tries used to walk the schema paths of the whole answer
    from llmkit.structured import _schema_paths

    walked: list[int] = []
    real = _schema_paths.line_kinds

    def counting(text: str, compiled: Any) -> dict[int, str]:
        walked.append(len(text))
        return real(text, compiled)

    monkeypatch.setattr(_schema_paths, "line_kinds", counting)
    text = "".join(f"k{i}: [unclosed\n" for i in range(2000))
    result = parse(text, {"type": "object"})
    assert result.stage == "failed"
    assert "quote_error_value" in result.repairs
    assert sum(walked) < 8 * len(text), (len(walked), sum(walked) / len(text))
