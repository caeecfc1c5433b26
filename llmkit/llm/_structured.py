"""``Client.structured``: one call that returns a schema-valid value, re-prompting last.

The structured package owns parsing and the re-prompt loop; this module only supplies the
model call, the format instructions and (optionally) the server's native
``response_format``, and writes each attempt's outcome to the call log so
``llmkit taxonomy --log`` can read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from llmkit import _observe
from llmkit.llm._messages import Messages, as_messages
from llmkit.llm._template import template_id
from llmkit.structured import (
    StructuredResult,
    arun_structured,
    format_instructions,
    response_format,
    run_structured,
)

if TYPE_CHECKING:
    from llmkit.llm._client import AsyncClient, Client
    from llmkit.llm._result import CallResult

__all__ = ["astructured_call", "structured_call"]


def _prepare(
    messages: Messages,
    schema: Any,
    format: str,
    instructions: bool,
    hints: bool | Iterable[str],
    native: bool,
    params: dict[str, Any],
) -> tuple[list[dict[str, Any]], str]:
    convo = as_messages(messages)
    if native:
        params.setdefault("response_format", response_format(schema))
        format = "json"  # servers constrain to JSON; still parsed and validated below
    if instructions:
        text = format_instructions(schema, format=format, hints=hints)
        if convo and convo[0].get("role") == "system":
            convo[0] = {**convo[0], "content": f"{convo[0].get('content') or ''}\n\n{text}"}
        else:
            convo.insert(0, {"role": "system", "content": text})
    return convo, format


def _tokens(result: CallResult) -> int:
    usage = result.usage or {}
    total = usage.get("total_tokens")
    if total is None:
        total = (usage.get("prompt_tokens") or 0) + result.timing.output_tokens
    return int(total)


def _log_outcome(
    client: Client | AsyncClient,
    response_ids: list[str | None],
    result: StructuredResult,
    params: dict[str, Any],
) -> None:
    if _observe.OBSERVERS:
        _observe.emit(
            _observe.StructuredEvent(
                stage=result.stage,
                rules=tuple(result.repairs),
                reprompts=max(0, result.attempts - 1),
                request_model=params.get("model") or client.endpoint.model,
                prompt=template_id(params.get("template")),
                variant=_observe.VARIANT.get(),
            )
        )
    log = client.call_log
    if log is None:
        return
    for entry, response_id in zip(result.history, response_ids, strict=False):
        last = entry.get("attempt") == result.attempts
        log.record_structured(
            response_id,
            {
                "stage": result.stage if last else entry.get("stage"),
                "repairs": result.repairs if last else (),
                "error": entry.get("error"),
            },
        )


def structured_call(
    client: Client,
    messages: Messages,
    schema: Any = None,
    *,
    format: str = "yaml",
    instructions: bool = True,
    hints: bool | Iterable[str] = True,
    native: bool = False,
    max_attempts: int = 3,
    max_total_tokens: int = 20_000,
    diff: bool = False,
    **params: Any,
) -> StructuredResult:
    """Ask for a value valid against ``schema``; repair in code, re-prompt only as a last resort.

    Args:
        client: the client making the calls.
        messages: a prompt string or chat messages.
        schema: JSON Schema dict, pydantic model class, dataclass, or ``None``.
        format: ``"yaml"`` (fewer tokens) or ``"json"``.
        instructions: add the format instructions and hint lines to the system message.
        hints: ``True`` for the default hint lines, or rule names / lines (e.g. the
            taxonomy's top classes).
        native: also send ``response_format`` with the JSON schema (servers that support it).
        max_attempts: model calls at most (the first included).
        max_total_tokens: no further call once this many tokens were spent.
        diff: include a diff of what the repairs changed.
        **params: chat parameters (``max_tokens``, ``temperature``, ...).
    """
    convo, format = _prepare(messages, schema, format, instructions, hints, native, params)
    response_ids: list[str | None] = []

    def call(turns: list[dict[str, Any]]) -> tuple[str, str | None, int]:
        result = client.chat(turns, **params)
        response_ids.append(result.response_id)
        return result.text, result.finish_reason, _tokens(result)

    outcome = run_structured(
        call,
        convo,
        schema,
        format=format,
        max_attempts=max_attempts,
        max_total_tokens=max_total_tokens,
        hints=hints,
        diff=diff,
    )
    _log_outcome(client, response_ids, outcome, params)
    return outcome


async def astructured_call(
    client: AsyncClient,
    messages: Messages,
    schema: Any = None,
    *,
    format: str = "yaml",
    instructions: bool = True,
    hints: bool | Iterable[str] = True,
    native: bool = False,
    max_attempts: int = 3,
    max_total_tokens: int = 20_000,
    diff: bool = False,
    **params: Any,
) -> StructuredResult:
    """Async twin of :func:`structured_call`."""
    convo, format = _prepare(messages, schema, format, instructions, hints, native, params)
    response_ids: list[str | None] = []

    async def call(turns: list[dict[str, Any]]) -> tuple[str, str | None, int]:
        result = await client.chat(turns, **params)
        response_ids.append(result.response_id)
        return result.text, result.finish_reason, _tokens(result)

    outcome = await arun_structured(
        call,
        convo,
        schema,
        format=format,
        max_attempts=max_attempts,
        max_total_tokens=max_total_tokens,
        hints=hints,
        diff=diff,
    )
    _log_outcome(client, response_ids, outcome, params)
    return outcome
