"""Fences and reasoning tags inside a valid document are content, not wrappers."""

from __future__ import annotations

import pytest

from llmkit.structured import parse


@pytest.mark.parametrize(
    ("text", "schema", "value"),
    [
        ("<THINK>: null\n", {"type": "object"}, {"<THINK>": None}),
        ("<think>: 1\n", None, {"<think>": 1}),
        ("a: <think>\n", None, {"a": "<think>"}),
        (
            "code: |\n  ```python\n  x = 1\n  ```\nlang: py\n",
            None,
            {"code": "```python\nx = 1\n```\n", "lang": "py"},
        ),
        ('{"note": "see </think> and ```"}', None, {"note": "see </think> and ```"}),
    ],
)
def test_valid_document_with_markers_is_clean(
    text: str, schema: dict[str, object] | None, value: object
) -> None:
    result = parse(text, schema)
    assert (result.stage, result.value, result.repairs) == ("clean", value, ())


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("<think>hi</think>\na: 1\n", ("strip_think",)),
        ("```yaml\na: 1\n```", ("extract_fence",)),
        ('<think>\nplan\n</think>\n```json\n{"a": 1}\n```', ("strip_think", "extract_fence")),
    ],
)
def test_wrappers_are_still_removed(text: str, rules: tuple[str, ...]) -> None:
    result = parse(text)
    assert (result.stage, result.value, result.repairs) == ("repaired", {"a": 1}, rules)
