"""The registry is data: entries carry name, phase, class, hint and broken → fixed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmkit.structured import get_rule, parse, register_rule, rules
from llmkit.structured._json_repair import repair_json
from llmkit.structured._rules import PHASES, register_entries, unregister_rule


def test_engine_repairs_are_entries_with_examples_that_hold() -> None:
    """Each JSON entry's own broken → fixed example is what the engine does."""
    entries = [r for r in rules("json") if r.func is None]
    assert len(entries) >= 15
    for rule in entries:
        assert rule.example is not None and rule.hint and rule.error_class, rule.name
        broken, fixed = rule.example
        read = repair_json(broken)
        assert read is not None, rule.name
        assert rule.name in read.repairs, (rule.name, read.repairs)
        assert read.values == [fixed] or rule.name in ("json_close_truncated",), rule.name
        assert rule.doc == f"`{broken}` → `{fixed}`"


def test_every_repair_the_engine_names_is_registered() -> None:
    texts = [r.example[0] for r in rules("json") if r.example] + [
        '{"a": 1}\n{"a": 2}',
        "[1, 2] and some prose",
    ]
    for text in texts:
        read = repair_json(text)
        assert read is not None
        for name in read.repairs:
            assert get_rule(name) is not None, name


def test_no_stub_functions_in_the_pipeline_registry() -> None:
    """Load-phase entries decided by the loader or the pipeline are data, not stubs."""
    for rule in rules("load"):
        if rule.func is not None:
            assert rule.func.__module__ != "llmkit.structured._pipeline", rule.name


def test_register_entries_checks_the_phase() -> None:
    with pytest.raises(ValueError):
        register_entries("nope", [])


@pytest.fixture
def stars() -> Iterator[None]:
    @register_rule(
        "strip_stars_test",
        phase="json",
        error_class="bold markers",
        hint="Do not use ** for emphasis.",
    )
    def strip_stars(text: str, ctx: object) -> str | None:
        """`{"**a**": 1}` → `{"a": 1}`"""
        return text.replace("**", "") if "**" in text else None

    yield
    unregister_rule("strip_stars_test")


@pytest.mark.usefixtures("stars")
def test_user_json_rules_run_before_the_engine() -> None:
    r = parse('{"**a**": 1, b: 2}', None, format="json")
    assert r.value == {"a": 1, "b": 2}
    assert "strip_stars_test" in r.repairs and "json_unquoted_keys" in r.repairs
    assert PHASES[0] == "extract"
