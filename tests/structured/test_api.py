"""Public API: schemas, results, re-prompt, streaming, cost, taxonomy, prompts, registry."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from pathlib import Path
from typing import Any, Literal

import pydantic
import pytest

import llmkit.structured as S
from llmkit.structured import (
    StreamParser,
    arun_structured,
    format_instructions,
    iter_partial,
    parse,
    register_rule,
    response_format,
    run_structured,
    taxonomy,
    token_cost,
    unregister_rule,
)


def test_all_sorted_and_complete() -> None:
    assert S.__all__ == sorted(S.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in S.__all__:
        assert hasattr(S, name), name


class Priority(enum.StrEnum):
    low = "low"
    high = "high"


class Address(pydantic.BaseModel):
    city: str
    zip: str | None = None


class Ticket(pydantic.BaseModel):
    title: str
    priority: Priority
    tags: list[str] = []
    address: Address | None = None


@dataclasses.dataclass
class DAddress:
    city: str


@dataclasses.dataclass
class DTicket:
    title: str
    priority: Literal["low", "high"]
    count: int = 1
    address: DAddress | None = None


def test_pydantic_schema_returns_instance() -> None:
    r = parse("Title: Broken\npriority: HIGH\ntags: a\naddress:\n  city: Oslo\n  zip: 0150", Ticket)
    assert isinstance(r.value, Ticket), r.error
    assert r.value.priority is Priority.high and r.value.tags == ["a"]
    assert r.value.address is not None and r.value.address.zip == "0150"
    assert r.to_dict()["value"]["priority"] == "high"


def test_dataclass_schema_returns_instance() -> None:
    r = parse("title: x\npriority: low\ncount: '3'\naddress: {city: Oslo}", DTicket)
    assert r.value == DTicket("x", "low", 3, DAddress("Oslo")), r.error


def test_result_to_dict_and_diff() -> None:
    r = parse("title: Note: x", {"type": "object"}, diff=True)
    d = r.to_dict()
    assert d["ok"] and d["stage"] == "repaired" and d["repairs"] == ["quote_colon_value"]
    assert r.diff and '+title: "Note: x"' in r.diff
    json.dumps(d, allow_nan=False)


def test_clean_result_is_exact() -> None:
    r = parse('{"a": [1, 2.5, "x", null, true]}', {"type": "object"})
    assert r.stage == "clean" and r.repairs == () and r.value == {"a": [1, 2.5, "x", None, True]}


def test_schema_failure_is_readable() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    r = parse("n: many", schema)
    assert r.stage == "failed" and "$.n" in (r.error or "")


def _fake_call(answers: list[str]) -> Any:
    seen: list[list[dict[str, Any]]] = []

    def call(messages: list[dict[str, Any]]) -> tuple[str, str | None, int]:
        seen.append(messages)
        return answers[len(seen) - 1], "stop", 10

    call.seen = seen  # type: ignore[attr-defined]
    return call


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def test_run_structured_reprompts_only_on_failure() -> None:
    call = _fake_call(["n: 3"])
    r = run_structured(call, [{"role": "user", "content": "hi"}], SCHEMA)
    assert r.stage == "clean" and r.attempts == 1 and r.tokens == 10
    call = _fake_call(["n: lots", "n: 4"])
    r = run_structured(call, [{"role": "user", "content": "hi"}], SCHEMA)
    assert r.stage == "reprompted" and r.value == {"n": 4} and r.attempts == 2 and r.tokens == 20
    last = call.seen[1]
    assert last[-2] == {"role": "assistant", "content": "n: lots"}
    assert "$.n" in last[-1]["content"]


def test_run_structured_caps() -> None:
    call = _fake_call(["n: a", "n: b", "n: c"])
    r = run_structured(call, [], SCHEMA, max_attempts=2)
    assert r.stage == "failed" and r.attempts == 2
    call = _fake_call(["n: a", "n: b"])
    r = run_structured(call, [], SCHEMA, max_total_tokens=10)
    assert r.attempts == 1


def test_arun_structured() -> None:
    answers = iter(["n: x", "n: 5"])

    async def call(messages: list[dict[str, Any]]) -> tuple[str, str | None, int]:
        return next(answers), "stop", 7

    r = asyncio.run(arun_structured(call, [], SCHEMA))
    assert r.stage == "reprompted" and r.value == {"n": 5} and r.tokens == 14


def test_stream_yaml_and_json() -> None:
    ticks = iter(range(100))
    p = StreamParser(clock=lambda: float(next(ticks)))
    assert p.feed("name: Ann\nag") is None
    part = p.feed("e: 3\ncity: Oslo\n")
    assert part is not None and part.value == {"name": "Ann", "age": 3}
    assert p.time_to_first_field is not None and p.time_to_first_field > 0
    assert p.close().value == {"name": "Ann", "age": 3, "city": "Oslo"}
    chunks = ['{"a": 1, "b": "x', 'y", "c": [1,', " 2]}"]
    parts = list(iter_partial(chunks))
    assert parts[0].value == {"a": 1}
    assert parts[-1].complete and parts[-1].value == {"a": 1, "b": "xy", "c": [1, 2]}


def test_token_cost_and_instructions() -> None:
    cost = token_cost({"title": "Fix login", "tags": ["a", "b"], "n": 3})
    assert cost.yaml < cost.json and 0 < cost.saving < 1
    assert token_cost(schema=SCHEMA, encoding="o200k_base").yaml > 0
    text = format_instructions(Ticket, "yaml", hints=["quote_colon_value"])
    assert "YAML" in text and "priority" in text and "': '" in text
    assert "JSON" in format_instructions(SCHEMA, "json", hints=False)
    rf = response_format(Ticket)
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "Ticket"


def test_taxonomy_over_results_and_records(tmp_path: Path) -> None:
    texts = ["title: Note: x", "title: ok", "{{{", "```yaml\ntitle: y\n```", "title: a: b"]
    report = taxonomy([parse(t, {"type": "object"}) for t in texts])
    assert report.total == 5 and report.stages["failed"] == 1
    assert report.rules["quote_colon_value"] == 2
    assert report.hints and report.hints[0].startswith("Quote any value")
    assert next(iter(report.to_frame()["rule"])) == "quote_colon_value"
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\nnot json\n")
    assert S.taxonomy_from_jsonl(path).to_dict()["stages"] == report.stages


def test_user_rule_and_hint() -> None:
    @register_rule(
        "strip_stars", phase="yaml", error_class="markdown bold", hint="Do not use ** in YAML."
    )
    def strip_stars(text: str, ctx: S.RepairContext) -> str | None:
        """`**a**: 1` → `a: 1`"""
        return text.replace("**", "") if "**" in text else None

    try:
        r = parse(
            "**title**: ok\n**n**: 1", {"type": "object", "required": ["title"]}, format="yaml"
        )
        assert r.value == {"title": "ok", "n": 1} and "strip_stars" in r.repairs
        S.register_hint("strip_stars", "Never use markdown.")
        assert S.hint_for("strip_stars") == "Never use markdown."
    finally:
        unregister_rule("strip_stars")


def test_prompts_load_and_render() -> None:
    from llmkit.prompts import list_prompts, load_prompt

    assert "support_ticket" in list_prompts()
    tpl = load_prompt("support_ticket")
    msgs = tpl.render(message="My order 7 is late")
    assert msgs[-1]["role"] == "user" and "My order 7 is late" in msgs[-1]["content"]
    assert "priority" in msgs[-1]["content"]
    from llmkit import ConfigError

    with pytest.raises(ConfigError):
        tpl.render()
