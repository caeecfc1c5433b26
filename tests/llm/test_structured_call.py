"""``Client.structured`` against the engine: repaired in code first, re-prompted last."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmkit.engine import Faults
from llmkit.llm import AsyncClient, Client, read_log

TICKET = {
    "type": "object",
    "required": ["title", "priority", "customer", "tags", "address"],
    "properties": {
        "title": {"type": "string"},
        "priority": {"enum": ["low", "medium", "high"]},
        "escalate": {"type": "boolean"},
        "customer": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {
            "type": "object",
            "required": ["street", "city", "postal_code", "country"],
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "postal_code": {"type": "string"},
                "country": {"type": "string"},
            },
        },
    },
}
PROMPT = "Extract the support ticket from this message as YAML: my order arrived broken."
MakeEngine = Callable[..., Any]


def _client(eng: Any, tmp_path: Path | None = None) -> Client:
    return Client(base_url=eng.base_url, model="llmkit-sim", log=tmp_path and tmp_path / "c.db")


def test_clean_answer_is_clean(engine: Any) -> None:
    with _client(engine) as client:
        result = client.structured(PROMPT, TICKET, max_tokens=400)
    assert result.stage == "clean", result.error
    assert result.attempts == 1 and result.repairs == ()
    assert result.value["priority"] in ("low", "medium", "high")
    assert isinstance(result.value["address"]["postal_code"], str)


@pytest.mark.parametrize(
    "kind", ["fences", "prose_and_fences", "tabs", "unquoted_colon", "missing_space"]
)
def test_malformed_answer_is_repaired_without_a_second_call(
    make_engine: MakeEngine, kind: str
) -> None:
    eng = make_engine(faults=Faults(script=(f"malformed:{kind}",)))
    with _client(eng) as client:
        result = client.structured(PROMPT, TICKET, max_tokens=400)
    assert result.stage == "repaired", (kind, result.error)
    assert result.attempts == 1 and result.repairs
    assert eng.requests_served() == 1


def test_unrecoverable_answer_is_reprompted(make_engine: MakeEngine, tmp_path: Path) -> None:
    # Truncated before the required fields arrive: nothing in code can invent them.
    eng = make_engine(faults=Faults(script=("ok",)))
    with _client(eng, tmp_path) as client:
        result = client.structured(PROMPT, TICKET, max_tokens=12)
        assert result.stage == "failed" and result.truncated
        assert result.attempts == 3  # each retry is cut at 12 tokens again
        fixed = client.structured(PROMPT, TICKET, max_tokens=400)
        assert fixed.stage == "clean"
    frame = read_log(tmp_path / "c.db")
    assert list(frame["structured_stage"]) == ["failed", "failed", "failed", "clean"]


def test_reprompt_recovers_after_a_failed_answer(make_engine: MakeEngine) -> None:
    eng = make_engine(faults=Faults(script=("malformed:truncated", "ok")))
    with _client(eng) as client:
        result = client.structured(PROMPT, TICKET, max_tokens=400)
    assert result.stage == "reprompted", result.history
    assert result.attempts == 2 and result.tokens > 0
    assert eng.requests_served() == 2


def test_async_structured(engine: Any) -> None:
    async def main() -> Any:
        async with AsyncClient(base_url=engine.base_url, model="llmkit-sim") as client:
            return await client.structured(PROMPT, TICKET, max_tokens=400)

    result = asyncio.run(main())
    assert result.ok and result.stage == "clean"


def test_structured_calls_record_their_prompt_template(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    """Every call of a structured answer (re-prompts too) carries the template's version."""
    eng = make_engine(faults=Faults(script=("malformed:truncated", "ok")))
    with _client(eng, tmp_path) as client:
        result = client.structured(PROMPT, TICKET, max_tokens=400, template=("ticket", "4"))
    assert result.attempts == 2
    frame = read_log(tmp_path / "c.db")
    assert list(frame["prompt_name"]) == ["ticket", "ticket"]
    assert list(frame["prompt_version"]) == ["4", "4"]
