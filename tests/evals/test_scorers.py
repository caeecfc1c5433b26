"""Built-in scorers on hand-made contexts, the registry and custom scorers."""

from __future__ import annotations

from typing import Any

import pytest

from llmkit import parse
from llmkit.evals import Score, ScoreContext, load_suite, register_scorer, registered_scorers
from llmkit.evals._scorers import _REGISTRY, build_scorer
from llmkit.evals._suite import Case, ScorerSpec

from .conftest import SUITE

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array"},
    },
}


def ctx(
    text: str, expected: Any = None, timing: dict[str, Any] | None = None, schema: Any = SCHEMA
) -> ScoreContext:
    suite = load_suite(SUITE)
    parsed = parse(text, schema, format="yaml") if schema is not None else None
    return ScoreContext(Case("c", {}, expected), text, parsed, timing or {}, suite)


def run(kind: str, context: ScoreContext, **options: Any) -> Score:
    return build_scorer(ScorerSpec(kind, kind, options), load_suite(SUITE))(context)


def test_equals_on_a_path_and_on_the_text() -> None:
    c = ctx("name: Ada\nage: 36\n", expected={"name": "Ada"})
    assert run("equals", c, path="name").passed
    assert not run("equals", c, path="name", value="Grace").passed
    assert run("equals", c, path="name", value="ada", ignore_case=True).passed
    plain = ctx("pong", expected="pong", schema=None)
    assert run("equals", plain).passed
    assert not run("equals", ctx("ping", expected="pong", schema=None)).passed


def test_field_equals_with_json_path_syntax() -> None:
    c = ctx("name: Ada\ntags: [a, b]\n")
    assert run("field_equals", c, path="$.tags[1]", value="b").passed
    assert not run("field_equals", c, path="tags[5]", value="b").passed
    assert run("field_equals", c, path="tags[-1]", value="b").passed


def test_contains_and_regex() -> None:
    c = ctx("The Order ORD-123456 is late", schema=None)
    assert run("contains", c, value="order").passed
    assert not run("contains", c, value="order", ignore_case=False).passed
    partial = run("contains", c, value=["late", "refund"])
    assert (partial.score, partial.passed) == (0.5, False)
    assert run("contains", c, value=["late", "refund"], all=False).passed
    assert run("regex", c, pattern=r"ORD-\d{6}").passed
    assert not run("regex", c, pattern=r"ORD-\d{6}", negate=True).passed


def test_numeric_tolerance() -> None:
    c = ctx("name: Ada\nage: 36\n")
    assert run("numeric", c, path="age", value=35, tolerance=1).passed
    assert not run("numeric", c, path="age", value=34, tolerance=1).passed
    assert run("numeric", c, path="age", value=40, relative=0.1).passed
    assert not run("numeric", c, path="name", value=1).passed


def test_set_overlap_metrics() -> None:
    c = ctx("name: x\ntags: [a, b, c]\n")
    s = run("set_overlap", c, path="tags", value=["a", "b", "d"])
    assert s.score == pytest.approx(2 / 4) and not s.passed
    assert run(
        "set_overlap", c, path="tags", value=["a", "b", "d"], metric="recall", min=0.6
    ).passed
    p = run("set_overlap", c, path="tags", value=["a", "b"], metric="precision")
    assert p.score == pytest.approx(2 / 3)


def test_structured_scorers_read_the_pipeline() -> None:
    clean = ctx("name: Ada\nage: 36\n", expected={"name": "Ada", "age": 36})
    assert run("schema_valid", clean).passed
    assert run("fields_equal", clean).passed
    assert run("stage", clean, max="clean").passed
    assert run("repairs", clean, max=0).passed
    fenced = ctx(
        "Here you go:\n```yaml\nname: Ada\nage: 36\n```\n", expected={"name": "Ada", "age": 37}
    )
    assert fenced.parsed is not None and fenced.parsed.stage == "repaired"
    assert run("schema_valid", fenced).passed
    assert not run("stage", fenced, max="clean").passed
    assert run("stage", fenced, max="repaired").passed
    assert not run("repairs", fenced, max=0).passed
    assert not run("repairs", fenced, forbid=list(fenced.parsed.repairs)).passed
    wrong = run("fields_equal", fenced)
    assert (wrong.score, wrong.passed) == (0.5, False) and "age" in wrong.detail
    broken = ctx("just prose, no data at all")
    assert not run("schema_valid", broken).passed
    assert not run("fields_equal", ctx("x", expected={"name": "Ada"}, schema=SCHEMA)).passed


def test_latency_and_tokens_read_recorded_timing() -> None:
    c = ctx(
        "name: Ada",
        timing={"ttft_ms": 120.0, "e2e_ms": 900.0, "itl_ms_mean": 8.0, "total_tokens": 300},
    )
    assert run("latency", c, metric="ttft_ms", max=200).passed
    assert not run("latency", c, metric="e2e_ms", max=500).passed
    assert run("latency", c, metric="itl_ms", max=10).passed
    assert not run("tokens", c, max=299).passed
    missing = run("latency", ctx("name: Ada"), metric="ttft_ms", max=1)
    assert not missing.passed and "no recorded" in missing.detail


def length_under(context: ScoreContext, limit: int = 10) -> bool:
    return len(context.output) < limit


def test_custom_scorer_by_import_path() -> None:
    fn = f"{__name__}:length_under"
    assert run("custom", ctx("short", schema=None), function=fn).passed
    assert not run("custom", ctx("x" * 20, schema=None), function=fn).passed
    assert run("custom", ctx("x" * 20, schema=None), function=fn, limit=30).passed


def test_registered_scorer_plugs_in() -> None:
    @register_scorer("shout")
    def make(spec: ScorerSpec, suite: Any) -> Any:
        return lambda c: Score(1.0 if c.output.isupper() else 0.0, c.output.isupper())

    try:
        assert "shout" in registered_scorers()
        assert run("shout", ctx("HEY", schema=None)).passed
        assert not run("shout", ctx("hey", schema=None)).passed
    finally:
        _REGISTRY.pop("shout")
